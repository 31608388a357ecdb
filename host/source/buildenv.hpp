// The build environment: a Debian rootfs of the target dist with build-essential
// and the build dependencies, made by mmdebstrap (as root, so that maintainer
// scripts run as on a real system), cached per dist, arch pair and dependency set
// under <cachedir>/buildenv, and reused read-only by every build; update makes it
// again when the archive's indexes have changed.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace dmc::source {

struct BuildEnvRequest {
    std::string dist;
    std::string build_arch, host_arch;  // equal unless cross-building
    std::vector<std::string> sources;   // "deb URL SUITE COMPONENTS..." lines
    std::vector<std::string> depends;   // Build-Depends relations, build-essential added
    std::filesystem::path cache_dir;
    std::filesystem::path log_file;  // mmdebstrap's output
    // The digests of the verified indexes it is made from; recorded in its stamp.
    std::string indexes;
    bool refresh = false;  // update: made again when `indexes` changed since it was made
    // Run before mmdebstrap, when the environment is to be made: throws Error to stop
    // (a build dependency that no index has), so nothing slow starts in vain.
    std::function<void()> check;
    std::chrono::seconds timeout{3600};
};

enum class BuildEnvState { ready, made, current };

// The key a request's environment is cached under.
std::string buildenv_key(const BuildEnvRequest& r);

// The environment's root, made when it is not cached (or, with refresh, when the
// indexes changed since; `state` says which). Throws Error with the last lines of the
// log when it cannot be made (a build dependency that does not exist); nothing
// half-made is left, and a cached environment stays as it was.
std::filesystem::path ensure_buildenv(const BuildEnvRequest& r, BuildEnvState* state = nullptr);

// The last `n` lines of `text`, for an error message.
std::string last_lines(const std::string& text, std::size_t n);

}  // namespace dmc::source
