#include "rootfs/diversions.hpp"

#include <stdexcept>

#include "rootfs/path.hpp"

namespace dmc::rootfs {
namespace {

bool is_dpkg_divert(const std::string& word) {
    return word == "dpkg-divert" || word == "/usr/bin/dpkg-divert" ||
           word == "/usr/sbin/dpkg-divert";
}

// The diversion a dpkg-divert command adds, or nothing for --remove, --list and the
// like. Throws std::invalid_argument for words it does not know.
std::optional<std::pair<std::string, Diversion>> added(const std::vector<ScriptWord>& words,
                                                       const std::string& package) {
    Diversion d;
    d.holder = package;
    std::string file;
    bool add = true;
    for (std::size_t i = 1; i < words.size(); ++i) {
        std::string w = words[i].text;
        std::optional<std::string> value;
        if (const auto eq = w.find('='); w.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = w.substr(eq + 1);
            w = w.substr(0, eq);
        }
        auto take = [&]() -> std::string {
            if (value) return *value;
            if (i + 1 >= words.size()) throw std::invalid_argument(w + " without its value");
            return words[++i].text;
        };
        if (w == "--add")
            add = true;
        else if (w == "--remove" || w == "--list" || w == "--listpackage" || w == "--truename")
            add = false;
        else if (w == "--package")
            d.holder = take();
        else if (w == "--local")
            d.holder.clear();
        else if (w == "--divert")
            d.divert_to = take();
        else if (w == "--admindir" || w == "--instdir" || w == "--root")
            throw std::invalid_argument(w + ": another dpkg database");
        else if (w == "--rename" || w == "--no-rename" || w == "--quiet" || w == "--test")
            continue;
        else if (!w.empty() && w[0] == '-')
            throw std::invalid_argument("the option " + w + " is not one dmc knows");
        else if (file.empty())
            file = w;
        else
            throw std::invalid_argument("more than one file");
    }
    if (!add) return std::nullopt;
    if (file.empty() || file[0] != '/') throw std::invalid_argument("no absolute file");
    if (d.divert_to.empty()) d.divert_to = file + ".distrib";
    if (d.divert_to[0] != '/') throw std::invalid_argument("a relative --divert");
    d.divert_to = normalize_image_path(d.divert_to);
    file = normalize_image_path(file);
    if (file == "/" || d.divert_to == "/" || file == d.divert_to)
        throw std::invalid_argument("a diversion of or to the root, or to itself");
    return std::pair{file, d};
}

}  // namespace

ScriptDiversions read_diversions(const std::map<std::string, PackageRecord>& records,
                                 const std::vector<std::string>& order, const ScriptFacts& facts) {
    ScriptDiversions out;
    for_each_script_command(
        records, order, facts,
        [](const ScriptCommand& command) { return is_dpkg_divert(command.words[0].text); },
        [&](const ScriptCommand& command, const std::string& package, const std::string&) {
            if (auto d = added(command.words, package)) out.by_path[d->first] = d->second;
        },
        out.unfollowed);
    return out;
}

}  // namespace dmc::rootfs
