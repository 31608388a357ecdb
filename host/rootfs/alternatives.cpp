#include "rootfs/alternatives.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <system_error>

#include "rootfs/path.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;

namespace dmc::rootfs {
namespace {

constexpr const char* kAdminDir = "/etc/alternatives";

bool is_update_alternatives(const std::string& word) {
    return word == "update-alternatives" || word == "/usr/bin/update-alternatives" ||
           word == "/usr/sbin/update-alternatives";
}

bool valid_link(const AlternativeLink& l) {
    return !l.link.empty() && l.link.front() == '/' && !l.path.empty() && l.path.front() == '/' &&
           !l.name.empty() && l.name.find('/') == std::string::npos && l.name != "." &&
           l.name != "..";
}

// The choice an `update-alternatives ... --install LINK NAME PATH PRIO [--slave ...]`
// installs, or nullopt when the command has no --install (--remove, --set, ...).
// Throws std::invalid_argument when its words do not make one.
std::optional<AlternativeChoice> install_of(const std::vector<ScriptWord>& words) {
    std::size_t i = 1;
    // Options before the action: those that take no argument, and --altdir/--admindir.
    while (i < words.size() && words[i].text != "--install") {
        const std::string& w = words[i].text;
        if (w == "--altdir" || w == "--admindir" || w == "--log") {
            i += 2;
        } else if (w == "--quiet" || w == "--verbose" || w == "--force" || w == "--debug") {
            ++i;
        } else {
            return std::nullopt;  // another action
        }
    }
    if (i >= words.size()) return std::nullopt;
    if (i + 4 >= words.size())
        throw std::invalid_argument("--install needs LINK NAME PATH PRIORITY");
    AlternativeChoice c;
    c.master = {words[i + 1].text, words[i + 2].text, words[i + 3].text};
    const std::string& priority = words[i + 4].text;
    char* end = nullptr;
    errno = 0;
    c.priority = std::strtol(priority.c_str(), &end, 10);
    if (priority.empty() || *end != '\0' || errno != 0)
        throw std::invalid_argument("priority " + priority + " is not a number");
    if (!valid_link(c.master)) throw std::invalid_argument("not an absolute link and path");
    for (i += 5; i < words.size();) {
        if (words[i].text != "--slave" || i + 3 >= words.size())
            throw std::invalid_argument("unexpected " + words[i].text);
        AlternativeLink slave{words[i + 1].text, words[i + 2].text, words[i + 3].text};
        if (!valid_link(slave)) throw std::invalid_argument("a slave that is not absolute");
        c.slaves.push_back(std::move(slave));
        i += 4;
    }
    return c;
}

bool exists_in(const fs::path& root, const std::string& path) {
    return resolve_in_root(root, path).has_value();
}

// Makes `path` a symlink to `target` inside `root`: its directory resolved in the root
// (never through a link out of it), created when missing. False, with nothing done,
// when a package ships something else than a link there.
bool make_link(const fs::path& root, Manifest& manifest, const std::string& path,
               const std::string& target) {
    const std::string image = normalize_image_path(path);
    if (auto it = manifest.files.find(image); it != manifest.files.end() && it->second.type != 'l')
        return false;
    const std::size_t slash = image.rfind('/');
    const std::string parent = slash == 0 ? "/" : image.substr(0, slash);
    const std::string name = image.substr(slash + 1);
    std::optional<std::string> dir = resolve_in_root(root, parent);
    if (!dir) {
        // A missing directory is made below the deepest one that exists.
        std::string made = "/";
        for (std::size_t at = 1; at <= parent.size();) {
            std::size_t next = parent.find('/', at);
            if (next == std::string::npos) next = parent.size();
            const std::string step = made == "/" ? "/" + parent.substr(at, next - at)
                                                 : made + "/" + parent.substr(at, next - at);
            if (auto r = resolve_in_root(root, step)) {
                made = *r;
            } else {
                made = step;
                fs::create_directory(root / made.substr(1));
                FileRecord d;
                d.type = 'd';
                d.mode = 0755;
                manifest.files.emplace(made, d);
            }
            at = next + 1;
        }
        dir = resolve_in_root(root, parent);
        if (!dir) return false;
    }
    const std::string resolved = (*dir == "/" ? "" : *dir) + "/" + name;
    const fs::path disk = root / resolved.substr(1);
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(disk, ec)) || !fs::exists(fs::symlink_status(disk, ec)))
        fs::remove(disk, ec);
    else
        return false;  // a file or a directory no package record names: leave it
    fs::create_symlink(target, disk);
    FileRecord link;
    link.type = 'l';
    link.mode = 0777;
    link.link = target;
    manifest.files[resolved] = link;
    return true;
}

}  // namespace

ScriptAlternatives read_alternatives(const Manifest& manifest,
                                     const std::vector<std::string>& packages,
                                     const ScriptFacts& facts) {
    ScriptAlternatives out;
    // --remove, --set and the like are not what a fresh install keeps: --install only.
    auto installs = [](const ScriptCommand& command) {
        return is_update_alternatives(command.words[0].text) &&
               std::any_of(command.words.begin(), command.words.end(),
                           [](const ScriptWord& w) { return w.known && w.text == "--install"; });
    };
    for_each_script_command(
        manifest.packages, packages, facts, installs,
        [&](const ScriptCommand& command, const std::string& package, const std::string&) {
            if (auto choice = install_of(command.words)) {
                choice->package = package;
                out.choices.push_back(std::move(*choice));
            }
        },
        out.unfollowed);
    return out;
}

std::vector<AlternativeSelection> select_alternatives(
    const fs::path& root, const std::vector<AlternativeChoice>& choices,
    const std::map<std::string, std::string>& pins) {
    std::map<std::string, std::vector<const AlternativeChoice*>> by_name;  // usable, in order
    std::map<std::string, std::vector<std::string>> offered;               // every path, for errors
    std::vector<std::string> names;
    for (const auto& c : choices) {
        if (!offered.count(c.master.name)) names.push_back(c.master.name);
        offered[c.master.name].push_back(c.master.path);
        if (exists_in(root, c.master.path)) by_name[c.master.name].push_back(&c);
    }
    for (const auto& pin : pins) {
        const std::string& name = pin.first;
        const std::string& path = pin.second;  // a plain reference: lambdas below take it
        auto it = offered.find(name);
        if (it == offered.end())
            throw Error("the alternative " + name + " is pinned to " + path +
                        ", but no package of the image offers it");
        const auto& usable = by_name[name];
        if (std::none_of(usable.begin(), usable.end(),
                         [&](const AlternativeChoice* c) { return c->master.path == path; })) {
            std::string list;
            for (const auto* c : usable) list += (list.empty() ? "" : ", ") + c->master.path;
            throw Error("the alternative " + name + " is pinned to " + path +
                        ", which is not one of its choices (" +
                        (list.empty() ? std::string("none exists") : list) + ")");
        }
    }
    std::vector<AlternativeSelection> out;
    for (const auto& name : names) {
        const auto& usable = by_name[name];
        if (usable.empty()) continue;
        const AlternativeChoice* best = usable.front();
        const auto pin = pins.find(name);
        for (const auto* c : usable) {
            if (pin != pins.end() ? c->master.path == pin->second : c->priority > best->priority)
                best = c;
            if (pin != pins.end() && c->master.path == pin->second) break;
        }
        AlternativeSelection s;
        s.choice = *best;
        s.pinned = pin != pins.end();
        // The first --install of a name sets its link; later ones with another keep it.
        s.choice.master.link = usable.front()->master.link;
        for (const auto& slave : best->slaves)
            if (exists_in(root, slave.path)) s.slaves.push_back(slave);
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<std::string> apply_alternatives(const fs::path& root, Manifest& manifest,
                                            const std::vector<AlternativeSelection>& selections) {
    std::vector<std::string> notes;
    auto one = [&](const AlternativeLink& l, const std::string& why) {
        const std::string admin = std::string(kAdminDir) + "/" + l.name;
        // The link first: where a package ships a file, nothing is made at all.
        if (!make_link(root, manifest, l.link, admin) ||
            !make_link(root, manifest, admin, l.path)) {
            notes.push_back("alternative " + l.name + ": " + l.link +
                            " is a file of a package, not replaced (as update-alternatives "
                            "leaves it)");
            return;
        }
        notes.push_back("alternative " + l.name + ": " + l.link + " -> " + l.path + " (" + why +
                        ")");
    };
    for (const auto& s : selections) {
        const std::string why = (s.pinned ? "pinned by the template"
                                          : "priority " + std::to_string(s.choice.priority)) +
                                ", from " + s.choice.package;
        one(s.choice.master, why);
        for (const auto& slave : s.slaves) one(slave, "slave of " + s.choice.master.name);
    }
    return notes;
}

}  // namespace dmc::rootfs
