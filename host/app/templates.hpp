// Which templates a run builds, and in which order: -t, -g and the groups.
#pragma once

#include <string>
#include <vector>

#include "plugin/catalog.hpp"

namespace dmc::app {

struct Group {
    std::string name, description;
};
// The groups of the loaded templates: the original bash dmc's core, base and app first.
std::vector<Group> groups_of(const std::vector<plugin::Template>& templates);

// The group of templates that are no service image of their own (plugins/dmc).
inline constexpr const char* kToolsGroup = "tools";
// The templates that build from source (root, and minutes each): built when named.
inline constexpr const char* kSourceGroup = "source";

// The templates named by -t and -g (all but the tools and the source group when neither is
// given), ordered by the
// request and then so that a template comes after those it builds on. Unknown names
// throw UsageError listing the valid values.
std::vector<std::string> choose_templates(const plugin::Catalog& catalog,
                                          const std::vector<std::string>& templates,
                                          const std::vector<std::string>& groups);

}  // namespace dmc::app
