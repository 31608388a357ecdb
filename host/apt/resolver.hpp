// Chooses the packages to install on an empty system, the way
// `apt-get install -s -o APT::Install-Recommends=false PKGS` does: same candidates,
// same walk over the dependencies, same choice among alternatives and providers,
// same autoremoval of what the walk marked but no longer needs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "apt/index.hpp"

namespace dmc::apt {

struct ResolveRequest {
    // "name", "name=version", "name:arch" or "name:arch=version".
    std::vector<std::string> packages;
    std::string native_arch;
    std::vector<std::string> foreign_archs;  // usually empty
    // Never installed; a dependency on one of them counts as met, so whatever only
    // they would have pulled in is left out as well.
    std::vector<std::string> excludes;
    // From the lock file: name -> the exact version to take (every architecture).
    std::map<std::string, std::string> pins;
    bool with_recommends = false;
    bool with_suggests = false;
};

struct Resolution {
    std::vector<const Package*> packages;  // sorted by name, then architecture
    // Conflicts and Breaks between chosen packages, one sentence each; not fatal.
    std::vector<std::string> problems;
};

// Throws dmc::Error for an unknown package (with close names suggested), a version or
// pin that the index doesn't have, and for a dependency that no installable version
// meets (with the chain of dependencies that led to it).
Resolution resolve(const PackageIndex& index, const ResolveRequest& request);

// Names from `names` close to `wanted` (same prefix or a small edit distance), best
// first, at most `limit`: for "did you mean" hints.
std::vector<std::string> suggest_names(std::string_view wanted,
                                       const std::vector<std::string_view>& names,
                                       std::size_t limit = 5);

}  // namespace dmc::apt
