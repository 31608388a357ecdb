// The dynamic loader's files of an image: what ldconfig would have left in it. An
// image whose libraries all lie in the loader's default directories needs none.
// One that ships libraries from a directory that only /etc/ld.so.conf (or a file it
// includes) names gets that configuration and an /etc/ld.so.cache listing them, as
// `ldconfig -r ROOT` would write it for the image's arch, so that its programs find
// them at run time as the closure found them at build time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "elf/ld_cache.hpp"

namespace dmc::contents {

// Debian's /etc/ld.so.conf (libc-bin's), written when the rootfs has none.
inline constexpr const char* debian_ld_so_conf = "include /etc/ld.so.conf.d/*.conf\n";

struct LoaderFiles {
    std::vector<elf::LdCacheEntry> cache;  // empty: the image needs no loader files
    std::vector<std::string> conf_files;   // rootfs paths of the configuration read
    bool default_conf = false;             // the rootfs has no /etc/ld.so.conf
};

// For an image holding `image_paths` of `root`: every shared library in a directory
// the configuration names (and the loader would not search anyway), by its SONAME,
// flagged with `ld_cache_flags` (arch::ArchInfo's).
LoaderFiles loader_files(const std::filesystem::path& root,
                         const std::vector<std::string>& image_paths, const std::string& triplet,
                         std::int32_t ld_cache_flags);

}  // namespace dmc::contents
