#include "contents/why.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "apt/deb822.hpp"
#include "apt/relation.hpp"
#include "elf/elf_file.hpp"
#include "rootfs/path.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;

namespace dmc::contents {
namespace {

std::string bare_name(std::string spec) {
    spec = spec.substr(0, spec.find('='));
    return spec.substr(0, spec.find(':'));
}

std::string field(const rootfs::PackageRecord& p, std::string_view name) {
    for (const apt::Stanza& s : apt::Deb822(p.control)) return std::string(s.get(name));
    return "";
}

// How `package` got into the rootfs: a line per step from the request to it.
std::vector<std::string> package_chain(const WhyInput& in, const std::string& package) {
    const auto& packages = in.manifest->packages;
    std::map<std::string, std::vector<std::string>> providers;  // virtual name -> packages
    for (const auto& [name, record] : packages)
        for (const auto& group : apt::parse_relations(field(record, "Provides"), in.arch))
            for (const auto& r : group) providers[r.name].push_back(name);
    auto installed = [&](const apt::Relation& r) -> std::optional<std::string> {
        if (packages.count(r.name)) return r.name;
        if (auto it = providers.find(r.name); it != providers.end()) return it->second.front();
        return std::nullopt;
    };
    struct Step {
        std::string from, how;
    };
    std::map<std::string, Step> reached;
    std::deque<std::string> queue;
    for (const auto& spec : in.requested) {
        const std::string name = bare_name(spec);
        if (packages.count(name) && !reached.count(name)) {
            reached[name] = {"", "asked for by the template"};
            queue.push_back(name);
        }
    }
    while (!queue.empty()) {  // breadth first: the shortest chain
        const std::string p = queue.front();
        queue.pop_front();
        const auto& record = packages.at(p);
        for (const char* kind : {"Pre-Depends", "Depends"})
            for (const auto& group : apt::parse_relations(field(record, kind), in.arch)) {
                std::optional<std::string> chosen;
                std::string matched;
                std::vector<std::string> others;
                for (const auto& r : group) {
                    auto got = installed(r);
                    if (got && !chosen) {
                        chosen = got;
                        matched = r.name;
                    } else if (!got) {
                        others.push_back(apt::to_string(r));
                    }
                }
                if (!chosen || reached.count(*chosen)) continue;
                std::string how = p + " " + kind + ": " + apt::to_string(group);
                if (*chosen != matched) how += "; " + matched + " is provided by " + *chosen;
                if (group.size() > 1) {
                    how += "; taken: " + *chosen;
                    std::string not_taken;
                    for (const auto& o : others) not_taken += (not_taken.empty() ? "" : ", ") + o;
                    if (!not_taken.empty()) how += "; not taken: " + not_taken;
                }
                reached[*chosen] = {p, how};
                queue.push_back(*chosen);
            }
    }
    const auto& record = packages.at(package);
    std::vector<std::string> lines{"package " + package + " " + record.version + " (" +
                                   record.arch + ")"};
    if (!reached.count(package)) {
        lines.push_back(
            "  no dependency of the request leads to it: it was asked for by a feature of the "
            "image, or pinned by the lock");
        return lines;
    }
    std::vector<std::string> steps;
    for (std::string p = package; !p.empty(); p = reached.at(p).from)
        steps.push_back(reached.at(p).from.empty() ? p + ": " + reached.at(p).how
                                                   : reached.at(p).how);
    std::reverse(steps.begin(), steps.end());
    for (const auto& s : steps) lines.push_back("  " + s);
    return lines;
}

bool matches(const std::string& glob, const std::string& path) {
    return ::fnmatch(normalize_image_path(glob).c_str(), path.c_str(), FNM_PATHNAME) == 0;
}

bool under(const std::string& dir, const std::string& path) {
    const std::string d = normalize_image_path(dir);
    return path == d || path.starts_with(d == "/" ? d : d + "/");
}

// The rule of the collect step that chose `path`; "" when none did directly.
std::string collect_rule(const WhyInput& in, const std::string& path) {
    const auto& c = *in.collected;
    for (const auto& p : c.paths) {
        if (under(p, path)) return "collected by the template: " + p;
        for (const auto& link : symlink_chain(in.root, p))
            if (link == path) return "on the way to " + p + ", which the template collects";
    }
    for (const auto& g : c.globs)
        if (matches(g, path)) return "collected by the template's glob " + g;
    if (auto it = in.manifest->files.find(path); it != in.manifest->files.end())
        for (const auto& pkg : c.package_files)
            if (it->second.package == pkg)
                return "a file of " + pkg + ", which the template takes whole";
    for (const auto& g : c.dlopened)
        if (matches(g, path)) return "a module the programs dlopen, by the template's glob " + g;
    return "";
}

// The ELF file of the image that needs `path` (by DT_NEEDED or PT_INTERP).
std::string elf_rule(const WhyInput& in, const std::string& path) {
    std::set<std::string> names{fs::path(path).filename().string()};
    std::error_code ec;
    const fs::path host = in.root / path.substr(1);
    if (auto info = read_elf(host); info && info->soname) names.insert(*info->soname);
    // A file some symlink of the image points to answers for the link's name too.
    for (const auto& f : in.files)
        if (auto it = in.manifest->files.find(f);
            it != in.manifest->files.end() && it->second.type == 'l')
            if (resolve_in_root(in.root, f) == path) names.insert(fs::path(f).filename().string());
    std::vector<std::string> needers, loaded_by;
    for (const auto& f : in.files) {
        if (f == path) continue;
        auto it = in.manifest->files.find(f);
        if (it == in.manifest->files.end() || it->second.type != 'f') continue;
        if (!is_elf(in.root / f.substr(1))) continue;
        auto info = read_elf(in.root / f.substr(1));
        if (!info) continue;
        if (!info->interpreter.empty() &&
            (info->interpreter == path || resolve_in_root(in.root, info->interpreter) == path))
            loaded_by.push_back(f);
        for (const auto& n : info->needed)
            if (names.count(n)) needers.push_back(f + " (DT_NEEDED " + n + ")");
    }
    auto list = [](const std::vector<std::string>& items) {
        std::string text;
        for (std::size_t i = 0; i < items.size() && i < 8; ++i) text += (i ? ", " : "") + items[i];
        if (items.size() > 8) text += " and " + std::to_string(items.size() - 8) + " more";
        return text;
    };
    if (!needers.empty()) return "a library needed by " + list(needers);
    if (!loaded_by.empty()) return "the dynamic loader (PT_INTERP) of " + list(loaded_by);
    return "";
}

}  // namespace

std::vector<std::string> why(const WhyInput& in, const std::string& what) {
    const auto& m = *in.manifest;
    if (!what.starts_with("/")) {
        if (!m.packages.count(what))
            throw Error(what +
                        " is not among the image's packages; give a package it has, or a "
                        "path inside the image (starting with /)");
        return package_chain(in, what);
    }
    const std::string path = normalize_image_path(what);
    std::vector<std::string> lines;
    const auto by = in.configure->written_by.find(path);
    const std::string hook = by == in.configure->written_by.end()
                                 ? "the image's configure hook"
                                 : "the configure hook of template " + by->second;
    for (const auto& f : in.configure->files)
        if (normalize_image_path(f.path) == path)
            lines.push_back("path " + path + ": written by " + hook);
    for (const auto& d : in.configure->dirs)
        if (normalize_image_path(d.path) == path && lines.empty())
            lines.push_back("path " + path + ": made by " + hook);
    for (const auto& s : in.configure->symlinks)
        if (normalize_image_path(s.path) == path && lines.empty())
            lines.push_back("path " + path + ": a symlink made by " + hook);
    if (!lines.empty()) return lines;
    const bool chosen = std::binary_search(in.files.begin(), in.files.end(), path);
    const auto record = m.files.find(path);
    if (!chosen) {
        if (path.starts_with("/var/lib/dpkg/") || path.starts_with("/var/lib/dmc/") ||
            path == "/etc/passwd" || path == "/etc/group" || path == "/etc/nsswitch.conf" ||
            path == "/etc/os-release" || path == "/tmp")
            return {"path " + path +
                    ": a base file dmc writes in every image (users, NSS, os-release, dpkg "
                    "records, the file manifest)"};
        throw Error(path + " is not in the image" +
                    (record == m.files.end()
                         ? ""
                         : " (its package " + record->second.package + " is, without it)"));
    }
    std::string rule = collect_rule(in, path);
    if (rule.empty()) rule = elf_rule(in, path);
    if (rule.empty()) rule = "chosen by the collect step, by no rule dmc can name";
    lines.push_back("path " + path + ": " + rule);
    if (record != m.files.end() && m.packages.count(record->second.package)) {
        const auto chain = package_chain(in, record->second.package);
        lines.push_back("  from " + chain.front());
        lines.insert(lines.end(), chain.begin() + 1, chain.end());
    }
    return lines;
}

}  // namespace dmc::contents
