#include "app/selection.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "config/settings.hpp"
#include "util/error.hpp"

namespace dmc::app {
namespace {

const std::vector<Group> kSeedGroups = {
    {"core", "Core services: web server, PHP"},
    {"base", "Base services: databases"},
    {"app", "Applications built on core and base"},
};

std::string names(const std::vector<std::string>& items) { return config::join(items, ", "); }

}  // namespace

const std::vector<ArchInfo>& known_archs() {
    static const std::vector<ArchInfo> archs = {
        {"amd64", "amd64", "", "x86_64-linux-gnu", "x86_64", "qemu-x86_64-static"},
        {"arm64", "arm64", "v8", "aarch64-linux-gnu", "aarch64", "qemu-aarch64-static"},
        {"armhf", "arm", "v7", "arm-linux-gnueabihf", "arm", "qemu-arm-static"},
        {"armel", "arm", "v5", "arm-linux-gnueabi", "arm", "qemu-arm-static"},
        {"i386", "386", "", "i386-linux-gnu", "i386", "qemu-i386-static"},
        {"ppc64el", "ppc64le", "", "powerpc64le-linux-gnu", "ppc64", "qemu-ppc64le-static"},
        {"s390x", "s390x", "", "s390x-linux-gnu", "s390x", "qemu-s390x-static"},
        {"riscv64", "riscv64", "", "riscv64-linux-gnu", "riscv64", "qemu-riscv64-static"},
    };
    return archs;
}

const ArchInfo& arch_info(const std::string& debian_arch) {
    for (const auto& a : known_archs())
        if (a.debian == debian_arch) return a;
    std::vector<std::string> valid;
    for (const auto& a : known_archs()) valid.push_back(a.debian);
    throw UsageError("unknown architecture '" + debian_arch + "'; valid architectures: " + names(valid));
}

void check_archs(const std::vector<std::string>& archs) {
    if (archs.empty()) throw UsageError("no architecture selected; pass -A amd64,arm64 for example");
    for (const auto& a : archs) arch_info(a);
}

std::vector<Group> groups_of(const std::vector<plugin::Template>& templates) {
    std::set<std::string> present;
    for (const auto& t : templates)
        if (!t.group.empty()) present.insert(t.group);
    std::vector<Group> out;
    for (const auto& g : kSeedGroups)
        if (present.erase(g.name)) out.push_back(g);
    for (const auto& name : present) {
        std::vector<std::string> members;
        for (const auto& t : templates)
            if (t.group == name) members.push_back(t.name);
        out.push_back({name, "Templates: " + names(members)});
    }
    return out;
}

std::vector<std::string> select_templates(const plugin::Registry& registry,
                                          const std::vector<std::string>& templates,
                                          const std::vector<std::string>& groups) {
    std::vector<std::string> all;
    for (const auto& t : registry.templates()) all.push_back(t.name);
    std::sort(all.begin(), all.end());
    auto group_list = groups_of(registry.templates());

    std::vector<std::string> requested;
    auto add = [&](const std::string& name) {
        if (std::find(requested.begin(), requested.end(), name) == requested.end())
            requested.push_back(name);
    };
    auto add_group = [&](const std::string& group) {
        for (const auto& name : all)
            if (registry.find(name)->group == group) add(name);
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
        if (registry.find(t) == nullptr)
            throw UsageError("unknown template '" + t + "'; valid templates: " + names(all));
        add(t);
    }
    if (templates.empty() && groups.empty()) {
        for (const auto& g : group_list) add_group(g.name);
        for (const auto& name : all) add(name);
    }

    // Stable topological order: each template after the selected ones it builds on.
    std::vector<std::string> ordered;
    std::set<std::string> done, visiting;
    std::function<void(const std::string&)> visit = [&](const std::string& name) {
        if (done.count(name)) return;
        if (visiting.count(name))
            throw Error("templates build on each other in a cycle through '" + name + "'");
        visiting.insert(name);
        for (const auto& base : registry.find(name)->builds_on)
            if (std::find(requested.begin(), requested.end(), base) != requested.end()) visit(base);
        visiting.erase(name);
        done.insert(name);
        ordered.push_back(name);
    };
    for (const auto& name : requested) visit(name);
    return ordered;
}

std::vector<const plugin::Template*> composition(const plugin::Registry& registry,
                                                 const std::string& name) {
    std::vector<const plugin::Template*> out;
    std::set<std::string> visiting;
    std::function<void(const std::string&, const std::string&)> visit =
        [&](const std::string& n, const std::string& from) {
            const plugin::Template* t = registry.find(n);
            if (t == nullptr)
                throw Error("template '" + from + "' builds on '" + n +
                            "', which is not loaded; add its plugin directory with --plugin-dir");
            if (std::find(out.begin(), out.end(), t) != out.end()) return;
            if (!visiting.insert(n).second)
                throw Error("templates build on each other in a cycle through '" + n + "'");
            for (const auto& base : t->builds_on) visit(base, n);
            out.push_back(t);
        };
    visit(name, name);
    return out;
}

}  // namespace dmc::app
