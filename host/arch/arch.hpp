// The Debian architectures dmc knows, with their OCI, ELF and GNU names: the facts
// every step that touches a binary or an image needs.
#pragma once

#include <string>
#include <vector>

namespace dmc::arch {

struct ArchInfo {
    std::string debian, oci, variant, triplet, elf_machine, qemu;
};
const std::vector<ArchInfo>& known_archs();
const ArchInfo& arch_info(
    const std::string& debian_arch);  // throws UsageError listing the valid ones
void check_archs(const std::vector<std::string>& archs);

}  // namespace dmc::arch
