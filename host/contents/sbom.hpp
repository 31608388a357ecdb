// What an image holds, its packages and its files, as an SPDX 2.3 and a CycloneDX
// 1.6 JSON document. A package of which only some files ship is marked partial,
// with each file left out and the rule that left it out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "contents/assemble.hpp"
#include "rootfs/manifest.hpp"

namespace dmc::contents {

struct SbomInput {
    std::string name;          // the image, e.g. "nginx-amd64"
    std::string distribution;  // "debian-trixie" for purls
    std::string arch;
    std::int64_t created = 0;  // the image's epoch, so the document is reproducible
    const rootfs::Manifest* manifest = nullptr;
    const Assembly* assembly = nullptr;  // the image's entries, their origins and digests
    // What the packages' maintainer scripts would have done that dmc did to the rootfs
    // the image was taken from, and the commands it could not follow: the notes.
    std::vector<std::string> script_effects, unfollowed_scripts;
};

std::string spdx_json(const SbomInput& input);
std::string cyclonedx_json(const SbomInput& input);

}  // namespace dmc::contents
