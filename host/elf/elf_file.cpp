#include "elf/elf_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace dmc {

namespace {

// Constants of the System V gABI, named as in <elf.h>, which we do not include
// so that the layout code below is the only description of the format.
constexpr std::size_t kIdentSize = 16;
constexpr unsigned char kClass32 = 1, kClass64 = 2;
constexpr unsigned char kData2Lsb = 1, kData2Msb = 2;
constexpr unsigned char kVersionCurrent = 1;

constexpr uint32_t kPtLoad = 1, kPtDynamic = 2, kPtInterp = 3;
constexpr uint32_t kShtStrtab = 3, kShtDynamic = 6;
constexpr uint64_t kDtNull = 0, kDtNeeded = 1, kDtStrtab = 5, kDtStrsz = 10, kDtSoname = 14,
                   kDtRpath = 15, kDtRunpath = 29;
constexpr uint16_t kPnXnum = 0xffff;

constexpr uint16_t kEmArm = 40;
constexpr uint32_t kEfArmEabiMask = 0xff000000, kEfArmAbiFloatSoft = 0x200,
                   kEfArmAbiFloatHard = 0x400;

using Failure = Result<ElfInfo>;
// Why a parsing step failed, or nullopt when it did not.
using Problem = std::optional<std::string>;

// Integers of the file's byte order. `fits` cannot overflow; every read is
// preceded by a `fits` check of the header or table that holds it.
class Bytes {
  public:
    Bytes(std::string_view data, bool little_endian) : data_(data), little_(little_endian) {}

    uint64_t size() const { return data_.size(); }

    bool fits(uint64_t offset, uint64_t length) const {
        return offset <= data_.size() && length <= data_.size() - offset;
    }

    // The unsigned integer of `width` bytes at `offset`; 0 when out of bounds,
    // which the checks before every call make unreachable.
    uint64_t uint(uint64_t offset, unsigned width) const {
        if (!fits(offset, width)) return 0;
        uint64_t value = 0;
        for (unsigned i = 0; i < width; ++i) {
            const uint64_t index = offset + (little_ ? width - 1 - i : i);
            value = (value << 8) | static_cast<unsigned char>(data_[index]);
        }
        return value;
    }

    std::string_view view(uint64_t offset, uint64_t length) const {
        return fits(offset, length) ? data_.substr(offset, length) : std::string_view();
    }

  private:
    std::string_view data_;
    bool little_;
};

// The fields of the ELF header we use, widened to 64 bits.
struct Header {
    uint64_t phoff = 0, shoff = 0;
    uint64_t phentsize = 0, shentsize = 0;
    uint64_t phnum = 0, shnum = 0;
};

struct Segment {
    uint32_t type;
    uint64_t offset, vaddr, filesz;
};

struct Section {
    uint32_t type, link, info;
    uint64_t offset, size;
};

// A region of the file.
struct Extent {
    uint64_t offset = 0, size = 0;
};

std::string machine_name(uint16_t machine, int elf_class, bool little_endian) {
    const bool is64 = elf_class == 64;
    switch (machine) {
        case 2:
            return "sparc";
        case 3:
            return "i386";
        case 4:
            return "m68k";
        case 8:
            return is64 ? "mips64" : "mips";
        case 15:
            return "hppa";
        case 20:
            return "ppc";
        case 21:
            return little_endian ? "ppc64le" : "ppc64";
        case 22:
            return is64 ? "s390x" : "s390";
        case 40:
            return "arm";
        case 42:
            return "sh";
        case 43:
            return "sparc64";
        case 50:
            return "ia64";
        case 62:
            return "x86_64";
        case 183:
            return "aarch64";
        case 243:
            return is64 ? "riscv64" : "riscv32";
        case 258:
            return "loongarch64";
        case 0x9026:
            return "alpha";
        default:
            return "machine-" + std::to_string(machine);
    }
}

void split_path_list(std::string_view list, std::vector<std::string>& out) {
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t end = list.find(':', start);
        if (end == std::string_view::npos) end = list.size();
        if (end > start) out.emplace_back(list.substr(start, end - start));
        start = end + 1;
    }
}

class Parser {
  public:
    explicit Parser(std::string_view data) : bytes_(data, true), data_(data) {}

    Result<ElfInfo> parse();

  private:
    Problem read_ident();
    Problem read_header();
    Problem read_segments();
    Problem read_dynamic();

    bool table_fits(uint64_t offset, uint64_t count, uint64_t entsize) const;
    std::optional<Section> section(uint64_t index) const;
    std::optional<Section> dynamic_section() const;
    std::optional<Extent> strtab_from_segments(uint64_t vaddr, std::optional<uint64_t> size) const;
    std::optional<Extent> strtab_from_sections() const;

    bool is64() const { return info_.elf_class == 64; }
    unsigned word() const { return is64() ? 8 : 4; }

    Bytes bytes_;
    std::string_view data_;
    ElfInfo info_;
    Header header_;
    std::vector<Segment> loads_;  // bounded by the program header table, itself in the file
    std::optional<Segment> dynamic_segment_;
};

Result<ElfInfo> Parser::parse() {
    for (auto step : {&Parser::read_ident, &Parser::read_header, &Parser::read_segments,
                      &Parser::read_dynamic}) {
        if (Problem problem = (this->*step)()) return Failure::failure(std::move(*problem));
    }
    return std::move(info_);
}

Problem Parser::read_ident() {
    if (data_.size() < kIdentSize) return "too short for an ELF header";
    if (data_.substr(0, 4) != std::string_view("\x7f"
                                               "ELF",
                                               4))
        return "not an ELF file";
    const auto elf_class = static_cast<unsigned char>(data_[4]);
    const auto encoding = static_cast<unsigned char>(data_[5]);
    if (elf_class != kClass32 && elf_class != kClass64)
        return "unknown ELF class " + std::to_string(elf_class);
    if (encoding != kData2Lsb && encoding != kData2Msb)
        return "unknown ELF data encoding " + std::to_string(encoding);
    if (static_cast<unsigned char>(data_[6]) != kVersionCurrent) return "unknown ELF version";
    info_.elf_class = elf_class == kClass64 ? 64 : 32;
    info_.little_endian = encoding == kData2Lsb;
    bytes_ = Bytes(data_, info_.little_endian);
    return std::nullopt;
}

Problem Parser::read_header() {
    if (!bytes_.fits(0, is64() ? 64 : 52)) return "truncated ELF header";
    // The classes differ only by the width of e_entry, e_phoff and e_shoff.
    const uint64_t phoff_at = 24 + word(), shoff_at = phoff_at + word(),
                   flags_at = shoff_at + word();
    info_.type = static_cast<uint16_t>(bytes_.uint(16, 2));
    info_.machine = static_cast<uint16_t>(bytes_.uint(18, 2));
    info_.flags = static_cast<uint32_t>(bytes_.uint(flags_at, 4));
    info_.machine_name = machine_name(info_.machine, info_.elf_class, info_.little_endian);
    header_.phoff = bytes_.uint(phoff_at, word());
    header_.shoff = bytes_.uint(shoff_at, word());
    // After e_flags: e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum.
    header_.phentsize = bytes_.uint(flags_at + 6, 2);
    header_.phnum = bytes_.uint(flags_at + 8, 2);
    header_.shentsize = bytes_.uint(flags_at + 10, 2);
    header_.shnum = bytes_.uint(flags_at + 12, 2);

    // Counts too large for the ELF header live in the first section header.
    if (header_.phnum == kPnXnum || header_.shnum == 0) {
        if (const std::optional<Section> first = section(0)) {
            if (header_.phnum == kPnXnum) header_.phnum = first->info;
            if (header_.shnum == 0) header_.shnum = first->size;
        }
    }
    return std::nullopt;
}

// Whether a table of `count` entries of `entsize` bytes lies in the file. The
// count is capped at 32 bits and the size at 16, so the product cannot overflow.
bool Parser::table_fits(uint64_t offset, uint64_t count, uint64_t entsize) const {
    if (count > UINT32_MAX || entsize > UINT16_MAX) return false;
    return bytes_.fits(offset, count * entsize);
}

// Section header `index`, or nullopt when it lies outside the file.
std::optional<Section> Parser::section(uint64_t index) const {
    const uint64_t entsize = is64() ? 64 : 40;
    if (header_.shoff == 0 || header_.shentsize < entsize) return std::nullopt;
    if (index != 0 && index >= header_.shnum) return std::nullopt;
    if (!table_fits(header_.shoff, index + 1, header_.shentsize)) return std::nullopt;
    const uint64_t at = header_.shoff + index * header_.shentsize;
    // sh_name, sh_type, sh_flags, sh_addr, then sh_offset, sh_size, sh_link, sh_info.
    const uint64_t offset_at = at + 8 + 2 * word();
    return Section{static_cast<uint32_t>(bytes_.uint(at + 4, 4)),
                   static_cast<uint32_t>(bytes_.uint(offset_at + 2 * word(), 4)),
                   static_cast<uint32_t>(bytes_.uint(offset_at + 2 * word() + 4, 4)),
                   bytes_.uint(offset_at, word()), bytes_.uint(offset_at + word(), word())};
}

Problem Parser::read_segments() {
    if (header_.phnum == 0) return std::nullopt;
    if (header_.phentsize < (is64() ? 56u : 32u)) return "program header entries too small";
    if (!table_fits(header_.phoff, header_.phnum, header_.phentsize))
        return "program header table outside the file";

    // p_type, then p_offset, p_vaddr, p_paddr, p_filesz; p_flags comes right
    // after p_type in 64-bit files and last in 32-bit ones.
    const uint64_t offset_field = is64() ? 8 : 4;
    for (uint64_t i = 0; i < header_.phnum; ++i) {
        const uint64_t at = header_.phoff + i * header_.phentsize;
        const Segment segment{static_cast<uint32_t>(bytes_.uint(at, 4)),
                              bytes_.uint(at + offset_field, word()),
                              bytes_.uint(at + offset_field + word(), word()),
                              bytes_.uint(at + offset_field + 3 * word(), word())};
        if (segment.type == kPtLoad) {
            loads_.push_back(segment);
        } else if (segment.type == kPtDynamic && !dynamic_segment_) {
            if (!bytes_.fits(segment.offset, segment.filesz)) return "PT_DYNAMIC outside the file";
            dynamic_segment_ = segment;
        } else if (segment.type == kPtInterp && info_.interpreter.empty()) {
            if (!bytes_.fits(segment.offset, segment.filesz)) return "PT_INTERP outside the file";
            const std::string_view text = bytes_.view(segment.offset, segment.filesz);
            // The kernel wants the NUL last; we only require a path and a NUL.
            const std::size_t nul = text.find('\0');
            if (nul == std::string_view::npos || nul == 0)
                return "PT_INTERP is not a NUL-terminated path";
            info_.interpreter = std::string(text.substr(0, nul));
        }
    }
    return std::nullopt;
}

// The first SHT_DYNAMIC section header, for files without PT_DYNAMIC.
std::optional<Section> Parser::dynamic_section() const {
    for (uint64_t i = 1; i < header_.shnum; ++i) {
        const std::optional<Section> s = section(i);
        if (!s) return std::nullopt;  // the table is cut short: no later entry exists either
        if (s->type == kShtDynamic) return s;
    }
    return std::nullopt;
}

// Where the dynamic string table at address `vaddr` lies in the file, through
// the PT_LOAD segment that maps it, as the loader finds it.
std::optional<Extent> Parser::strtab_from_segments(uint64_t vaddr,
                                                   std::optional<uint64_t> size) const {
    for (const Segment& load : loads_) {
        if (vaddr < load.vaddr || vaddr - load.vaddr >= load.filesz) continue;
        const uint64_t delta = vaddr - load.vaddr;
        if (!bytes_.fits(load.offset, delta)) continue;
        const uint64_t offset = load.offset + delta;
        uint64_t available = std::min(load.filesz - delta, bytes_.size() - offset);
        if (size) available = std::min(available, *size);
        return Extent{offset, available};
    }
    return std::nullopt;
}

// The string table that the SHT_DYNAMIC section links to, for files whose
// DT_STRTAB no PT_LOAD maps.
std::optional<Extent> Parser::strtab_from_sections() const {
    const std::optional<Section> dynamic = dynamic_section();
    if (!dynamic || dynamic->link == 0) return std::nullopt;
    const std::optional<Section> strtab = section(dynamic->link);
    if (!strtab || strtab->type != kShtStrtab || !bytes_.fits(strtab->offset, strtab->size))
        return std::nullopt;
    return Extent{strtab->offset, strtab->size};
}

Problem Parser::read_dynamic() {
    Extent table;
    if (dynamic_segment_) {
        table = Extent{dynamic_segment_->offset, dynamic_segment_->filesz};
    } else if (const std::optional<Section> s = dynamic_section()) {
        if (!bytes_.fits(s->offset, s->size)) return "dynamic section outside the file";
        table = Extent{s->offset, s->size};
    } else {
        return std::nullopt;  // statically linked
    }
    info_.dynamic = true;

    struct StringRef {
        uint64_t tag, offset;
    };
    std::vector<StringRef> strings;  // at most one per entry of a table inside the file
    std::optional<uint64_t> strtab_vaddr, strtab_size;
    const uint64_t entry_size = 2 * word();
    const uint64_t table_end = table.offset + table.size;  // cannot overflow: the table fits
    for (uint64_t at = table.offset; table_end - at >= entry_size; at += entry_size) {
        const uint64_t tag = bytes_.uint(at, word());
        const uint64_t value = bytes_.uint(at + word(), word());
        if (tag == kDtNull) break;
        if (tag == kDtStrtab) strtab_vaddr = value;
        if (tag == kDtStrsz) strtab_size = value;
        if (tag == kDtNeeded || tag == kDtSoname || tag == kDtRpath || tag == kDtRunpath)
            strings.push_back(StringRef{tag, value});
    }
    if (strings.empty()) return std::nullopt;

    std::optional<Extent> strtab;
    if (strtab_vaddr) strtab = strtab_from_segments(*strtab_vaddr, strtab_size);
    if (!strtab) strtab = strtab_from_sections();
    if (!strtab) return "dynamic string table not found in the file";

    const std::string_view strtab_text = bytes_.view(strtab->offset, strtab->size);
    for (const StringRef& ref : strings) {
        if (ref.offset >= strtab_text.size())
            return "dynamic string offset outside the string table";
        const std::string_view rest = strtab_text.substr(ref.offset);
        const std::size_t nul = rest.find('\0');
        if (nul == std::string_view::npos) return "unterminated string in the dynamic string table";
        const std::string_view text = rest.substr(0, nul);
        switch (ref.tag) {
            case kDtNeeded:
                info_.needed.emplace_back(text);
                break;
            case kDtSoname:
                info_.soname = std::string(text);
                break;
            case kDtRpath:
                split_path_list(text, info_.rpath);
                break;
            case kDtRunpath:
                split_path_list(text, info_.runpath);
                break;
            default:
                break;
        }
    }
    return std::nullopt;
}

// A read-only mapping of a whole file, unmapped when it goes away.
class MappedFile {
  public:
    MappedFile() = default;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile() {
        if (data_ != nullptr) ::munmap(data_, size_);
    }
    // An error message, or empty on success.
    std::string open(const std::filesystem::path& path) {
        // O_NONBLOCK: a FIFO in a package must not hang us.
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) return std::strerror(errno);
        struct stat st {};
        std::string error;
        if (::fstat(fd, &st) != 0) {
            error = std::strerror(errno);
        } else if (!S_ISREG(st.st_mode)) {
            error = "not a regular file";
        } else if (st.st_size > 0) {
            size_ = static_cast<std::size_t>(st.st_size);
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                error = std::strerror(errno);
                size_ = 0;
            } else {
                data_ = p;
            }
        }
        ::close(fd);
        return error;
    }
    std::string_view bytes() const {
        return data_ == nullptr ? std::string_view()
                                : std::string_view(static_cast<const char*>(data_), size_);
    }

  private:
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace

Result<ElfInfo> parse_elf(std::string_view bytes) { return Parser(bytes).parse(); }

Result<ElfInfo> read_elf(const std::filesystem::path& path) {
    MappedFile file;
    const std::string error = file.open(path);
    if (!error.empty()) return Failure::failure(path.string() + ": " + error);
    Result<ElfInfo> info = parse_elf(file.bytes());
    if (!info) return Failure::failure(path.string() + ": " + info.error());
    return info;
}

bool is_elf(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return false;
    struct stat st {};
    char magic[4] = {};
    const bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                    ::pread(fd, magic, sizeof magic, 0) == static_cast<ssize_t>(sizeof magic) &&
                    std::memcmp(magic,
                                "\x7f"
                                "ELF",
                                4) == 0;
    ::close(fd);
    return ok;
}

bool same_abi(const ElfInfo& a, const ElfInfo& b) {
    if (a.machine != b.machine || a.elf_class != b.elf_class || a.little_endian != b.little_endian)
        return false;
    if (a.machine == kEmArm && (a.flags & kEfArmEabiMask) != 0 && (b.flags & kEfArmEabiMask) != 0) {
        const uint32_t float_abi = kEfArmAbiFloatSoft | kEfArmAbiFloatHard;
        const uint32_t fa = a.flags & float_abi, fb = b.flags & float_abi;
        if (fa != 0 && fb != 0 && fa != fb) return false;
    }
    return true;
}

}  // namespace dmc
