// Unpacks .deb files into a rootfs directory with libarchive, without root and
// without running maintainer scripts. Nothing is ever written outside the root:
// entries with "..", absolute names, or a path through a symlink that leaves the
// root are refused.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "rootfs/diversions.hpp"
#include "rootfs/manifest.hpp"
#include "util/fs.hpp"

namespace dmc::rootfs {

// How much a package may unpack to: a bomb (a small .deb whose data decompresses to
// far more than it says) is stopped there instead of filling the disk.
struct UnpackLimits {
    // Bytes of file data in all; 0: twice the package's Installed-Size and 1 MiB
    // (dpkg counts each file up to a whole KiB), or 4 GiB when it has none.
    std::uint64_t package_bytes = 0;
};

// FILE -> where another package's FILE goes instead.
using Diversions = std::map<std::string, Diversion>;

// The package store: each .deb unpacked once, under its SHA-256, and placed into
// any number of trees as hard links to the stored files, so that templates sharing
// packages share their bytes on disk. store_deb reads and checks the whole package
// (every name, the data against its budget) and returns the stored directory; a
// package stored already is not read again, but for the files shed_store removed.
// place_deb puts a stored package into `root` exactly as unpacking it there would,
// recording it in `manifest`: directories through symlinks resolved inside the root,
// diversions applied, later packages replacing earlier ones' files. Stored files are
// never written to: a tree that changes a file replaces it.
std::filesystem::path store_deb(const std::filesystem::path& deb,
                                const std::filesystem::path& store, const std::string& sha256,
                                const std::string& package, UnpackLimits limits = {});
void place_deb(const std::filesystem::path& stored, const std::filesystem::path& root,
               const std::string& package, Manifest& manifest, const Diversions& diversions = {});
// The control data and maintainer scripts of a stored package.
PackageRecord stored_control(const std::filesystem::path& stored);
// Removes the stored packages that no tree links any more and that were not placed
// for `unused_for`; returns how many. Nothing while another process holds
// store_in_use.
std::size_t prune_store(const std::filesystem::path& store, std::chrono::seconds unused_for);

// Held (shared) while packages are stored and placed: prune_store and shed_store
// remove nothing from the store meanwhile.
std::unique_ptr<FileLock> store_in_use(const std::filesystem::path& store);

// Files taken out of a tree or the store, and their bytes.
struct TreeSlimmed {
    std::size_t files = 0;
    std::uint64_t bytes = 0;
};
// A tree whose image is packed keeps only what the image reads: its links into the
// store other than the files of `keep` (followed through symlinks, and the same file
// under any name) are removed. The files the tree wrote itself stay.
TreeSlimmed slim_tree(const std::filesystem::path& root,
                      const std::vector<std::filesystem::path>& keep);
// The stored files that no tree links any more are removed, their package marked
// partial: store_deb reads them again from the .deb, checked against the list, before
// it is placed. Nothing while another process holds store_in_use.
TreeSlimmed shed_store(const std::filesystem::path& store);

// Unpacks one .deb into `root` (stored in a store of its own, then placed), recording every entry
// in `manifest` under `package`. Throws Error naming the package and the offending entry on hostile
// or corrupt input: names with "..", absolute, through a symlink out of the root, longer than
// PATH_MAX or with control characters; hard links to anything but a regular file of the root; more
// data than the limits allow. Device nodes, FIFOs and sockets are left out. `diversions` (FILE ->
// where it goes) sends another package's FILE elsewhere.
void unpack_deb(const std::filesystem::path& deb, const std::filesystem::path& root,
                const std::string& package, Manifest& manifest, UnpackLimits limits = {},
                const Diversions& diversions = {});

// The control data and maintainer scripts of a .deb alone, without unpacking it.
PackageRecord read_deb_control(const std::filesystem::path& deb, const std::string& package);

}  // namespace dmc::rootfs
