// The shared libraries an ELF program needs inside a root filesystem, found as
// glibc's dynamic loader would find them at run time, so that an image holds
// exactly what its programs load. Nothing from the root is run: the search is
// redone here on the unpacked files, through rootfs/path's confined lookups.
//
// For every DT_NEEDED name of an object, in order (as glibc's ld.so does):
//   1. a name with a "/" is a path, used as it is;
//   2. DT_RPATH of the object, then of the objects that loaded it up to the
//      program, when the object has no DT_RUNPATH (an object with a
//      DT_RUNPATH also gives no DT_RPATH to the objects it loads);
//   3. DT_RUNPATH of the object itself;
//   4. the directories listed in the root's /etc/ld.so.conf (what ldconfig
//      caches), following "include" globs (Debian's when the root has none);
//   5. /lib/<triplet>, /usr/lib/<triplet>, /lib, /usr/lib.
// $ORIGIN, $LIB (Debian's "lib/<triplet>") and $PLATFORM, bare or in braces,
// are expanded in search paths and in names with a "/". A path that is still
// relative after expansion depends on the current directory at run time and is
// skipped. A candidate is taken only if it is an ELF file of the program's ABI
// (same_abi); others are passed over as ld.so does.
//
// Not modelled: LD_LIBRARY_PATH, LD_PRELOAD, /etc/ld.so.preload, and the
// glibc-hwcaps subdirectories (they only hold optional faster variants).
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace dmc {

struct ClosureRequest {
    std::filesystem::path root;  // the host directory holding the unpacked packages
    // Image paths of the ELF programs and libraries to start from. A root that
    // is not an ELF file (a script) brings only itself and its symlinks.
    std::vector<std::string> roots;
    std::set<std::string> optional_sonames;  // may stay unresolved, with a warning
    std::string triplet;                     // multiarch triplet, e.g. "x86_64-linux-gnu"
    std::string platform;                    // the value of $PLATFORM, e.g. "x86_64"
};

struct ClosureResult {
    // Sorted, unique image paths to copy into the image: the roots, their
    // interpreters and every library found, each with the symlinks on the way
    // to it (symlink_chain), so that every path the loader opens exists.
    std::vector<std::string> paths;
    std::vector<std::string> warnings;  // optional sonames not found, unusable candidates
};

// Throws dmc::Error when a root or an interpreter does not exist or is a
// malformed ELF file, or a needed library outside `optional_sonames` is not
// found: "<root>: cannot find <soname> (needed by <object>)".
ClosureResult resolve_closure(const ClosureRequest& request);

// Adds modules the programs dlopen() (plugins, NSS modules...) and their
// libraries to `result`: image paths walked like `request.roots`, which are
// not walked again. Same errors as resolve_closure.
void add_dlopen_modules(ClosureResult& result, const ClosureRequest& request,
                        const std::vector<std::string>& modules);

// The root's dynamic loader configuration: the library directories that
// /etc/ld.so.conf lists, in order, with its "include" globs expanded inside the
// root, and the files read. A root without /etc/ld.so.conf reads as having
// Debian's (libc-bin's "include /etc/ld.so.conf.d/*.conf"), since every Debian
// system has it: `defaulted` says so, and `files` then lists only the included ones.
struct LdSoConf {
    std::vector<std::string> dirs;
    std::vector<std::string> files;  // image paths, in the order read
    bool defaulted = false;
};
LdSoConf read_ld_so_conf_files(const std::filesystem::path& root);
std::vector<std::string> read_ld_so_conf(const std::filesystem::path& root);  // its dirs

}  // namespace dmc
