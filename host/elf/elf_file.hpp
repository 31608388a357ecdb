// A reader for the few facts of an ELF file the image builder needs: its
// architecture, its interpreter and its dynamic dependencies. Written from the
// System V gABI, for 32- and 64-bit files of either byte order. Files come
// from packages we do not trust to be well formed, so every offset and size is
// checked: a malformed file gives a failure value, never a crash.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace dmc {

struct ElfInfo {
    int elf_class = 0;  // 32 or 64
    bool little_endian = true;
    uint16_t machine = 0;             // e_machine
    std::string machine_name;         // "x86_64", "aarch64", "arm", "i386", ... else "machine-<n>"
    uint16_t type = 0;                // e_type: 2 executable, 3 shared object or PIE
    uint32_t flags = 0;               // e_flags; on ARM they tell hard- from soft-float
    std::string interpreter;          // PT_INTERP, empty when there is none
    std::vector<std::string> needed;  // DT_NEEDED, in file order
    std::optional<std::string> soname;  // DT_SONAME
    // DT_RPATH and DT_RUNPATH split at ':', empty entries dropped, "$ORIGIN"
    // and the like left unexpanded.
    std::vector<std::string> rpath, runpath;
    bool dynamic = false;  // has a dynamic section
};

// Parses an ELF image held in memory.
Result<ElfInfo> parse_elf(std::string_view bytes);

// Reads and parses a regular file; the failure message names the file.
Result<ElfInfo> read_elf(const std::filesystem::path& path);

// Whether the file is a regular file starting with the ELF magic number.
bool is_elf(const std::filesystem::path& path);

// Whether an object built as `b` can be loaded in a process of `a`, as the
// dynamic loader checks it: same machine, class and byte order, and on ARM
// the same floating-point calling convention.
bool same_abi(const ElfInfo& a, const ElfInfo& b);

}  // namespace dmc
