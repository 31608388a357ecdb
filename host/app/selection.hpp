// Which templates, in which order, and for which architectures.
#pragma once

#include <string>
#include <vector>

#include "plugin/registry.hpp"

namespace dmc::app {

// The Debian architectures dmc knows, with their ELF and OCI names.
struct ArchInfo {
    std::string debian, oci, variant, triplet, elf_machine, qemu;
};
const std::vector<ArchInfo>& known_archs();
const ArchInfo& arch_info(const std::string& debian_arch);  // throws UsageError listing the valid ones
void check_archs(const std::vector<std::string>& archs);

struct Group {
    std::string name, description;
};
// The groups of the loaded templates: the seed's core, base and app first.
std::vector<Group> groups_of(const std::vector<plugin::Template>& templates);

// The templates named by -t and -g (all when neither is given), ordered by the
// request and then so that a template comes after those it builds on. Unknown names
// throw UsageError listing the valid values.
std::vector<std::string> select_templates(const plugin::Registry& registry,
                                          const std::vector<std::string>& templates,
                                          const std::vector<std::string>& groups);

// A template and, first, every template it builds on (transitively), each once.
std::vector<const plugin::Template*> composition(const plugin::Registry& registry,
                                                 const std::string& name);

}  // namespace dmc::app
