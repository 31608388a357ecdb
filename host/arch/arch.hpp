// The Debian architectures dmc knows, with their OCI, ELF and GNU names: the facts
// every step that touches a binary or an image needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dmc::arch {

struct ArchInfo {
    std::string debian, oci, variant, triplet, elf_machine, qemu;
    // What ldconfig flags this arch's libraries with in ld.so.cache (glibc's
    // FLAG_ELF_LIBC6 with the arch's FLAG_*_LIB64, _LIBHF, ...); the loader takes
    // only entries with its own.
    std::int32_t ld_cache_flags = 0;
};
const std::vector<ArchInfo>& known_archs();
const ArchInfo& arch_info(
    const std::string& debian_arch);  // throws UsageError listing the valid ones
void check_archs(const std::vector<std::string>& archs);

}  // namespace dmc::arch
