#include "contents/loader.hpp"

#include <algorithm>
#include <set>

#include "elf/closure.hpp"
#include "elf/elf_file.hpp"
#include "rootfs/path.hpp"

namespace fs = std::filesystem;

namespace dmc::contents {

LoaderFiles loader_files(const fs::path& root, const std::vector<std::string>& image_paths,
                         const std::string& triplet, std::int32_t ld_cache_flags) {
    LoaderFiles out;
    const LdSoConf conf = read_ld_so_conf_files(root);
    // The directories the loader searches without a cache, as they resolve in the root.
    std::set<std::string> defaults;
    for (const std::string& dir :
         {"/lib/" + triplet, "/usr/lib/" + triplet, std::string("/lib"), std::string("/usr/lib")})
        if (auto resolved = resolve_in_root(root, dir)) defaults.insert(*resolved);
    const std::set<std::string> in_image(image_paths.begin(), image_paths.end());
    std::set<std::string> names;
    for (const std::string& dir : conf.dirs) {
        const auto resolved = resolve_in_root(root, dir);
        if (!resolved || defaults.count(*resolved)) continue;
        const std::string prefix = *resolved == "/" ? "/" : *resolved + "/";
        for (auto it = in_image.lower_bound(prefix);
             it != in_image.end() && it->compare(0, prefix.size(), prefix) == 0; ++it) {
            const std::string name = it->substr(prefix.size());
            if (name.find('/') != std::string::npos) continue;
            const auto file = resolve_in_root(root, *it);
            if (!file || !is_elf(root / file->substr(1))) continue;
            const auto info = read_elf(root / file->substr(1));
            // ldconfig lists a library under its SONAME, the name programs ask for.
            if (!info.ok() || info.value().soname != name) continue;
            if (!names.insert(name).second) continue;  // an earlier directory has it
            out.cache.push_back(
                {name, (dir.back() == '/' ? dir : dir + "/") + name, ld_cache_flags});
        }
    }
    if (!out.cache.empty()) {
        out.conf_files = conf.files;
        out.default_conf = conf.defaulted;
    }
    return out;
}

}  // namespace dmc::contents
