// Debian's alternatives, set up as `update-alternatives` would have set them up on a
// fresh install, without running any maintainer script: the `--install` calls are
// read from the packages' postinst and preinst (rootfs/script), each name gets the
// choice that auto mode gives it (the highest priority; on a tie the one installed
// first), or the one a template pins, and its links are made in the rootfs:
// LINK -> /etc/alternatives/NAME -> PATH, and the same for each slave of the choice.
// A needed library that Debian reaches only through an alternative (libblas.so.3)
// is then found by the ELF closure, which ships the whole link chain.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "rootfs/manifest.hpp"
#include "rootfs/script.hpp"

namespace dmc::rootfs {

struct AlternativeLink {
    std::string link;  // "/usr/lib/x86_64-linux-gnu/libblas.so.3"
    std::string name;  // "libblas.so.3-x86_64-linux-gnu"
    std::string path;  // "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"
};

// One `update-alternatives --install` of a package's script.
struct AlternativeChoice {
    std::string package;
    AlternativeLink master;
    long priority = 0;
    std::vector<AlternativeLink> slaves;
};

struct ScriptAlternatives {
    std::vector<AlternativeChoice> choices;  // in the order the packages are given
    std::vector<UnfollowedCommand> unfollowed;
};

// The --install calls in the preinst and postinst of `packages` (in the order they
// would be configured), as recorded in `manifest`.
ScriptAlternatives read_alternatives(const Manifest& manifest,
                                     const std::vector<std::string>& packages,
                                     const ScriptFacts& facts);

// What one alternative name resolves to.
struct AlternativeSelection {
    AlternativeChoice choice;             // the master link, its package and priority
    std::vector<AlternativeLink> slaves;  // those of the choice whose path exists
    bool pinned = false;                  // chosen by a template, not by priority
};

// Auto mode for every name, except those in `pins` (name -> path). A choice whose
// path does not exist in `root` is dropped, as update-alternatives refuses it.
// Throws Error when a pin names an alternative no package offers or a path that is
// not one of its choices (naming those there are).
std::vector<AlternativeSelection> select_alternatives(
    const std::filesystem::path& root, const std::vector<AlternativeChoice>& choices,
    const std::map<std::string, std::string>& pins);

// Makes the links of `selections` in `root` and records them in `manifest` (no
// package owns them). A link over a file a package ships is not made, as
// update-alternatives does not replace one: it is returned as a note instead.
// Returns one line per effect applied or refused, for the build log.
std::vector<std::string> apply_alternatives(const std::filesystem::path& root, Manifest& manifest,
                                            const std::vector<AlternativeSelection>& selections);

}  // namespace dmc::rootfs
