#include "contents/files.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "elf/closure.hpp"
#include "elf/elf_file.hpp"
#include "log/log.hpp"
#include "rootfs/path.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;

namespace dmc::contents {
std::vector<std::string> glob_manifest(const rootfs::Manifest& m, const std::string& pattern) {
    std::vector<std::string> out;
    const std::string norm = normalize_image_path(pattern);
    for (const auto& [path, record] : m.files)
        if (::fnmatch(norm.c_str(), path.c_str(), FNM_PATHNAME) == 0) out.push_back(path);
    return out;
}

std::vector<std::string> image_files(const FilesRequest& r) {
    const auto& manifest = *r.manifest;
    std::set<std::string> chosen;

    // A path brings the links on the way to it and, for a directory, everything below.
    auto add_path = [&](const std::string& path, bool required) {
        auto chain = symlink_chain(r.root, path);
        if (chain.empty()) {
            if (required)
                throw Error("template " + r.template_name + " collects " + path +
                            ", which none of its packages installs");
            return;
        }
        chosen.insert(chain.begin(), chain.end());
        const std::string target = chain.back();
        std::error_code ec;
        if (fs::is_directory(fs::symlink_status(r.root / target.substr(1), ec))) {
            const std::string prefix = target == "/" ? "/" : target + "/";
            for (auto it = manifest.files.lower_bound(prefix);
                 it != manifest.files.end() && it->first.compare(0, prefix.size(), prefix) == 0;
                 ++it)
                chosen.insert(it->first);
        }
    };
    for (const auto& p : r.collected.paths) add_path(p, true);
    for (const auto& g : r.collected.globs)
        for (const auto& p : glob_manifest(manifest, g)) add_path(p, false);
    for (const auto& pkg : r.collected.package_files) {
        bool any = false;
        for (const auto& [path, record] : manifest.files)
            if (record.package == pkg) {
                chosen.insert(path);
                any = true;
            }
        if (!any && !manifest.packages.count(pkg))
            throw Error("template " + r.template_name + " collects the files of " + pkg +
                        ", which is not among its packages");
    }

    // Every ELF file chosen so far starts the closure; dlopen'ed modules join it.
    ClosureRequest closure;
    closure.root = r.root;
    closure.triplet = r.triplet;
    closure.platform = r.platform;
    closure.optional_sonames.insert(r.collected.allow_missing.begin(),
                                    r.collected.allow_missing.end());
    for (const auto& path : chosen) {
        auto it = manifest.files.find(path);
        if (it == manifest.files.end() || it->second.type != 'f') continue;
        if (is_elf(r.root / path.substr(1))) closure.roots.push_back(path);
    }
    ClosureResult result = resolve_closure(closure);
    std::vector<std::string> modules;
    for (const auto& g : r.collected.dlopened)
        for (const auto& p : glob_manifest(manifest, g)) modules.push_back(p);
    if (!modules.empty()) add_dlopen_modules(result, closure, modules);
    for (const auto& w : result.warnings) log::warning(r.template_name + ": " + w);
    chosen.insert(result.paths.begin(), result.paths.end());
    return {chosen.begin(), chosen.end()};
}

}  // namespace dmc::contents
