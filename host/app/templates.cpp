#include "app/templates.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "config/settings.hpp"
#include "util/error.hpp"

namespace dmc::app {
namespace {

const std::vector<Group> kOriginalGroups = {
    {"core", "Core services: web server, PHP"},
    {"base", "Base services: databases"},
    {"app", "Applications built on core and base"},
};

std::string names(const std::vector<std::string>& items) { return config::join(items, ", "); }

}  // namespace

std::vector<Group> groups_of(const std::vector<plugin::Template>& templates) {
    std::set<std::string> present;
    for (const auto& t : templates)
        if (!t.group.empty()) present.insert(t.group);
    std::vector<Group> out;
    for (const auto& g : kOriginalGroups)
        if (present.erase(g.name)) out.push_back(g);
    for (const auto& name : present) {
        std::vector<std::string> members;
        for (const auto& t : templates)
            if (t.group == name) members.push_back(t.name);
        out.push_back({name, "Templates: " + names(members)});
    }
    return out;
}

std::vector<std::string> choose_templates(const plugin::Catalog& catalog,
                                          const std::vector<std::string>& templates,
                                          const std::vector<std::string>& groups) {
    std::vector<std::string> all;
    for (const auto& t : catalog.templates()) all.push_back(t.name);
    std::sort(all.begin(), all.end());
    auto group_list = groups_of(catalog.templates());

    std::vector<std::string> requested;
    auto add = [&](const std::string& name) {
        if (std::find(requested.begin(), requested.end(), name) == requested.end())
            requested.push_back(name);
    };
    auto add_group = [&](const std::string& group) {
        for (const auto& name : all)
            if (catalog.find(name)->group == group) add(name);
    };
    for (const auto& g : groups) {
        bool known = std::any_of(group_list.begin(), group_list.end(),
                                 [&](const Group& x) { return x.name == g; });
        if (!known) {
            std::vector<std::string> valid;
            for (const auto& x : group_list) valid.push_back(x.name);
            throw UsageError("unknown group '" + g + "'; valid groups: " + names(valid));
        }
        add_group(g);
    }
    for (const auto& t : templates) {
        if (catalog.find(t) == nullptr)
            throw UsageError("unknown template '" + t + "'; valid templates: " + names(all));
        add(t);
    }
    if (templates.empty() && groups.empty()) {
        // Every image, but not the tools (the dmc image) nor the builds from source:
        // they are built when named.
        const auto by_default = [](const std::string& group) {
            return group != kToolsGroup && group != kSourceGroup;
        };
        for (const auto& g : group_list)
            if (by_default(g.name)) add_group(g.name);
        for (const auto& name : all)
            if (by_default(catalog.find(name)->group)) add(name);
    }

    // Stable topological order: each template after the selected ones it builds on.
    std::vector<std::string> ordered;
    std::set<std::string> done, visiting;
    std::function<void(const std::string&)> visit = [&](const std::string& name) {
        if (done.count(name)) return;
        if (visiting.count(name))
            throw Error("templates build on each other in a cycle through '" + name + "'");
        visiting.insert(name);
        for (const auto& base : catalog.find(name)->builds_on)
            if (std::find(requested.begin(), requested.end(), base) != requested.end()) visit(base);
        visiting.erase(name);
        done.insert(name);
        ordered.push_back(name);
    };
    for (const auto& name : requested) visit(name);
    return ordered;
}

}  // namespace dmc::app
