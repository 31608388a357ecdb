// Synthesizes small, valid ELF files of any class, byte order and machine, so
// that tests of the ELF reader and of the library closure need no foreign
// toolchain or downloaded package. The files hold only what the reader looks
// at: the ELF header, PT_LOAD/PT_INTERP/PT_DYNAMIC, a dynamic section and its
// string table, and optionally section headers for them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace dmc::test {

constexpr uint16_t kEmI386 = 3, kEmArm = 40, kEmX86_64 = 62, kEmPpc64 = 21, kEmS390 = 22,
                   kEmAarch64 = 183, kEmRiscv = 243;

struct ElfSpec {
    int elf_class = 64;
    bool little_endian = true;
    uint16_t machine = kEmX86_64;
    uint16_t type = 3;  // ET_DYN
    uint32_t flags = 0;
    std::string interpreter;  // PT_INTERP when not empty
    std::vector<std::string> needed;
    std::optional<std::string> soname;
    std::string rpath, runpath;   // DT_RPATH / DT_RUNPATH when not empty, ':'-separated
    bool dynamic = true;          // a dynamic section at all
    bool program_dynamic = true;  // PT_DYNAMIC points at it (else only SHT_DYNAMIC does)
    bool section_headers = false;
    bool strtab_mapped = true;  // DT_STRTAB inside the PT_LOAD (else only sections find it)
};

// Byte offsets of the parts of a synthesized file, for tests that corrupt them.
struct ElfLayout {
    std::size_t phoff = 0, interp = 0, dynstr = 0, dynstr_size = 0, dynamic = 0, dynamic_size = 0,
                shoff = 0, size = 0;
};

class ElfWriter {
  public:
    explicit ElfWriter(const ElfSpec& spec) : spec_(spec) {}

    std::string build(ElfLayout* layout_out = nullptr) {
        const bool is64 = spec_.elf_class == 64;
        const std::size_t word = is64 ? 8 : 4;
        const std::size_t ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32,
                          shentsize = is64 ? 64 : 40;

        // The dynamic string table and the entries that point into it.
        std::string dynstr(1, '\0');
        auto add_string = [&](const std::string& s) {
            const std::size_t at = dynstr.size();
            dynstr += s;
            dynstr += '\0';
            return at;
        };
        std::vector<std::pair<uint64_t, uint64_t>> entries;
        for (const std::string& n : spec_.needed) entries.emplace_back(1, add_string(n));
        if (spec_.soname) entries.emplace_back(14, add_string(*spec_.soname));
        if (!spec_.rpath.empty()) entries.emplace_back(15, add_string(spec_.rpath));
        if (!spec_.runpath.empty()) entries.emplace_back(29, add_string(spec_.runpath));

        const std::size_t phnum =
            1 + (spec_.interpreter.empty() ? 0 : 1) + (spec_.dynamic && spec_.program_dynamic);
        ElfLayout layout;
        layout.phoff = ehsize;
        layout.interp = layout.phoff + phnum * phentsize;
        layout.dynstr =
            layout.interp + (spec_.interpreter.empty() ? 0 : spec_.interpreter.size() + 1);
        layout.dynstr_size = dynstr.size();
        layout.dynamic = align(layout.dynstr + dynstr.size(), 8);
        const std::size_t dyn_count =
            spec_.dynamic ? entries.size() + 3 : 0;  // + STRTAB, STRSZ, NULL
        layout.dynamic_size = dyn_count * 2 * word;
        const std::size_t shstrtab = layout.dynamic + layout.dynamic_size;
        const std::string shstr = std::string("\0.dynstr\0.dynamic\0.shstrtab\0", 28);
        layout.shoff = spec_.section_headers ? align(shstrtab + shstr.size(), 8) : 0;
        layout.size = spec_.section_headers ? layout.shoff + 4 * shentsize : shstrtab;

        out_.assign(layout.size, '\0');
        const uint64_t base = 0x10000;
        // e_ident
        out_.replace(0, 4,
                     "\x7f"
                     "ELF");
        out_[4] = static_cast<char>(is64 ? 2 : 1);
        out_[5] = static_cast<char>(spec_.little_endian ? 1 : 2);
        out_[6] = 1;
        // ELF header
        put(16, spec_.type, 2);
        put(18, spec_.machine, 2);
        put(20, 1, 4);
        put(24, base, word);                     // e_entry
        put(24 + word, layout.phoff, word);      // e_phoff
        put(24 + 2 * word, layout.shoff, word);  // e_shoff
        const std::size_t flags_at = 24 + 3 * word;
        put(flags_at, spec_.flags, 4);
        put(flags_at + 4, ehsize, 2);
        put(flags_at + 6, phentsize, 2);
        put(flags_at + 8, phnum, 2);
        put(flags_at + 10, spec_.section_headers ? shentsize : 0, 2);
        put(flags_at + 12, spec_.section_headers ? 4 : 0, 2);
        put(flags_at + 14, spec_.section_headers ? 3 : 0, 2);

        // Program headers: PT_LOAD of the whole file, PT_INTERP, PT_DYNAMIC.
        std::size_t ph = layout.phoff;
        auto program_header = [&](uint32_t type, uint64_t offset, uint64_t size) {
            put(ph, type, 4);
            if (is64) {
                put(ph + 4, 4, 4);  // p_flags
                put(ph + 8, offset, 8);
                put(ph + 16, base + offset, 8);
                put(ph + 24, base + offset, 8);
                put(ph + 32, size, 8);
                put(ph + 40, size, 8);
                put(ph + 48, 8, 8);
            } else {
                put(ph + 4, offset, 4);
                put(ph + 8, base + offset, 4);
                put(ph + 12, base + offset, 4);
                put(ph + 16, size, 4);
                put(ph + 20, size, 4);
                put(ph + 24, 4, 4);
                put(ph + 28, 8, 4);
            }
            ph += phentsize;
        };
        program_header(1, 0, layout.size);
        if (!spec_.interpreter.empty()) {
            program_header(3, layout.interp, spec_.interpreter.size() + 1);
            out_.replace(layout.interp, spec_.interpreter.size(), spec_.interpreter);
        }
        if (spec_.dynamic && spec_.program_dynamic)
            program_header(2, layout.dynamic, layout.dynamic_size);

        out_.replace(layout.dynstr, dynstr.size(), dynstr);
        if (spec_.dynamic) {
            const uint64_t strtab_addr = spec_.strtab_mapped ? base + layout.dynstr : 0x7fff0000;
            entries.emplace_back(5, strtab_addr);
            entries.emplace_back(10, dynstr.size());
            entries.emplace_back(0, 0);
            std::size_t at = layout.dynamic;
            for (const auto& [tag, value] : entries) {
                put(at, tag, word);
                put(at + word, value, word);
                at += 2 * word;
            }
        }

        if (spec_.section_headers) {
            out_.replace(shstrtab, shstr.size(), shstr);
            // [0] null, [1] .dynstr, [2] .dynamic (linked to 1), [3] .shstrtab
            section_header(layout.shoff + 1 * shentsize, 1, 3, layout.dynstr, dynstr.size(), 0);
            if (spec_.dynamic) {
                section_header(layout.shoff + 2 * shentsize, 9, 6, layout.dynamic,
                               layout.dynamic_size, 1);
            }
            section_header(layout.shoff + 3 * shentsize, 18, 3, shstrtab, shstr.size(), 0);
        }
        if (layout_out != nullptr) *layout_out = layout;
        return out_;
    }

    // Writes `value` at `offset` in the file's byte order.
    static void put_value(std::string& bytes, std::size_t offset, uint64_t value, std::size_t width,
                          bool little_endian) {
        for (std::size_t i = 0; i < width; ++i) {
            const std::size_t index = little_endian ? i : width - 1 - i;
            bytes[offset + index] = static_cast<char>((value >> (8 * i)) & 0xff);
        }
    }

  private:
    static std::size_t align(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

    void put(std::size_t offset, uint64_t value, std::size_t width) {
        put_value(out_, offset, value, width, spec_.little_endian);
    }

    void section_header(std::size_t at, uint32_t name, uint32_t type, uint64_t offset,
                        uint64_t size, uint32_t link) {
        const bool is64 = spec_.elf_class == 64;
        const std::size_t word = is64 ? 8 : 4;
        put(at, name, 4);
        put(at + 4, type, 4);
        put(at + 8 + 2 * word, offset, word);
        put(at + 8 + 3 * word, size, word);
        put(at + 8 + 4 * word, link, 4);
    }

    ElfSpec spec_;
    std::string out_;
};

inline std::string make_elf(const ElfSpec& spec, ElfLayout* layout = nullptr) {
    return ElfWriter(spec).build(layout);
}

// Writes `bytes` to `path`, creating its directories.
inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace dmc::test
