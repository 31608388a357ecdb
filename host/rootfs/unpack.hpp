// Unpacks .deb files into a rootfs directory with libarchive, without root and
// without running maintainer scripts. Nothing is ever written outside the root:
// entries with "..", absolute names, or a path through a symlink that leaves the
// root are refused.
#pragma once

#include <filesystem>
#include <string>

#include "rootfs/manifest.hpp"

namespace dmc::rootfs {

// Unpacks one .deb into `root`, recording every entry in `manifest` under `package`.
// Throws Error naming the package and the offending entry on hostile or corrupt input.
void unpack_deb(const std::filesystem::path& deb, const std::filesystem::path& root,
                const std::string& package, Manifest& manifest);

}  // namespace dmc::rootfs
