// Unpacks .deb files into a rootfs directory with libarchive, without root and
// without running maintainer scripts. Nothing is ever written outside the root:
// entries with "..", absolute names, or a path through a symlink that leaves the
// root are refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "rootfs/diversions.hpp"
#include "rootfs/manifest.hpp"

namespace dmc::rootfs {

// How much a package may unpack to: a bomb (a small .deb whose data decompresses to
// far more than it says) is stopped there instead of filling the disk.
struct UnpackLimits {
    // Bytes of file data in all; 0: twice the package's Installed-Size and 1 MiB
    // (dpkg counts each file up to a whole KiB), or 4 GiB when it has none.
    std::uint64_t package_bytes = 0;
};

// Unpacks one .deb into `root`, recording every entry in `manifest` under `package`.
// Throws Error naming the package and the offending entry on hostile or corrupt input:
// names with "..", absolute, through a symlink out of the root, longer than PATH_MAX
// or with control characters; hard links to anything but a regular file of the root;
// more data than the limits allow. Device nodes, FIFOs and sockets are left out.
// `diversions` (FILE -> where it goes) sends another package's FILE elsewhere.
using Diversions = std::map<std::string, Diversion>;
void unpack_deb(const std::filesystem::path& deb, const std::filesystem::path& root,
                const std::string& package, Manifest& manifest, UnpackLimits limits = {},
                const Diversions& diversions = {});

// The control data and maintainer scripts of a .deb alone, without unpacking it.
PackageRecord read_deb_control(const std::filesystem::path& deb, const std::string& package);

}  // namespace dmc::rootfs
