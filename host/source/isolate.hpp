// Running one build step isolated: in its own mount, PID and network namespaces
// (no network at all), chrooted into a read-only build environment with only the
// build directory writable, as an unprivileged user without capabilities, and
// killed at a time limit.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace dmc::source {

inline constexpr unsigned kBuildUid = 65534;        // nobody, nogroup: owns nothing in the root
inline constexpr const char* kBuildDir = "/build";  // where the work directory is seen

struct IsolatedCommand {
    std::filesystem::path root;    // the build environment, mounted read-only
    std::filesystem::path work;    // the host directory seen as /build, writable
    std::string cwd;               // inside: "/build/src"
    std::string command;           // run as sh -e -c COMMAND
    std::vector<std::string> env;  // NAME=value, the whole environment besides PATH, HOME
    std::chrono::seconds timeout{3600};
    std::filesystem::path log;  // where all of its output goes
};

struct IsolatedRun {
    int status = 0;          // the command's exit status
    bool timed_out = false;  // killed at the time limit
    std::string output;      // its last MiB
};

// Throws Error when the isolation itself cannot be set up or started (not root, no
// unshare).
IsolatedRun run_isolated(const IsolatedCommand& c);

}  // namespace dmc::source
