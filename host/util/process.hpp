// Running a helper program (a credential helper, an exec credential plugin) and
// collecting what it prints, with a time limit.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace dmc {

struct ProcessRequest {
    std::vector<std::string> argv;     // argv[0] is the program's path
    std::vector<std::string> env;      // "NAME=value" set on top of dmc's environment
    std::optional<std::string> input;  // written to stdin; nullopt: stdin is dmc's own
    bool stderr_to_output = true;      // false: stderr stays dmc's (the user's terminal)
    std::chrono::seconds timeout{60};
    // Set: everything the program prints is written there too (a build's log), and the
    // program may print any amount; `output` keeps the last MiB. Unset: a program that
    // prints more than a MiB is cut off there.
    std::filesystem::path output_file;
};

struct ProcessRun {
    int status = -1;  // the exit status, or 128 + the signal
    std::string output;
};

// What run_process throws when the program outlives its timeout (it is killed).
struct TimeoutError : Error {
    using Error::Error;
};

// Throws Error when the program cannot be started, TimeoutError when it outlives the
// timeout.
ProcessRun run_process(const ProcessRequest& request);

// The executable `name` in the colon-separated `path`, or "". A name with a slash is
// taken as it is.
std::string find_executable(const std::string& name, const std::string& path);

}  // namespace dmc
