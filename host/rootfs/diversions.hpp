// dpkg's diversions, read from the packages' maintainer scripts, never run:
//   dpkg-divert [--add] [--package P | --local] [--divert TO] [--rename | --no-rename] FILE
// makes every package but the holder (P; the script's own package when neither
// --package nor --local is given, as dpkg sets DPKG_MAINTSCRIPT_PACKAGE) install
// FILE as TO (FILE.distrib by default). The unpacking applies them whatever order
// the packages come in: on a fresh install the holder's preinst, which adds the
// diversion, runs before any file of the set is unpacked, and --rename would move
// a file unpacked before it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "rootfs/alternatives.hpp"
#include "rootfs/manifest.hpp"
#include "rootfs/script.hpp"

namespace dmc::rootfs {

struct Diversion {
    std::string divert_to;  // the image path other packages' file is installed as
    std::string holder;     // the package whose own file stays; "" for --local
};

struct ScriptDiversions {
    std::map<std::string, Diversion> by_path;  // FILE -> where others' FILE goes
    std::vector<UnfollowedCommand> unfollowed;
};

// The diversions the preinsts and postinsts of `records` (name -> control data and
// scripts) add, in `order`; a later one of the same FILE replaces an earlier one.
ScriptDiversions read_diversions(const std::map<std::string, PackageRecord>& records,
                                 const std::vector<std::string>& order, const ScriptFacts& facts);

}  // namespace dmc::rootfs
