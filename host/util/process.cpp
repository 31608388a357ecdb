#include "util/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "util/error.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace dmc {

namespace {
constexpr std::size_t kOutputLimit = 1 << 20;  // what a run keeps of its output
}  // namespace

std::string find_executable(const std::string& name, const std::string& path) {
    if (name.find('/') != std::string::npos)
        return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
    std::size_t start = 0;
    while (start <= path.size()) {
        auto colon = path.find(':', start);
        if (colon == std::string::npos) colon = path.size();
        const std::string dir = path.substr(start, colon - start);
        start = colon + 1;
        // An empty or relative entry means the current directory: never searched, so a
        // program named in a kubeconfig cannot be one planted where dmc happens to run.
        if (dir.empty() || dir.front() != '/') continue;
        const fs::path candidate = fs::path(dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
    return "";
}

ProcessRun run_process(const ProcessRequest& request) {
    const std::string& program = request.argv.at(0);
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if ((request.input && ::pipe2(in, O_CLOEXEC) != 0) || ::pipe2(out, O_CLOEXEC) != 0) {
        const int error = errno;
        for (int fd : {in[0], in[1]})
            if (fd >= 0) ::close(fd);
        throw Error("cannot run " + program + ": " + std::strerror(error));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (request.input) posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    if (request.stderr_to_output) posix_spawn_file_actions_adddup2(&actions, out[1], 2);

    std::vector<std::string> args = request.argv;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // The environment with the request's variables on top, each name once.
    std::map<std::string, std::string> vars;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string entry = *e;
        vars[entry.substr(0, entry.find('='))] = entry;
    }
    for (const auto& entry : request.env) vars[entry.substr(0, entry.find('='))] = entry;
    std::vector<std::string> env_strings;
    for (auto& [name, entry] : vars) env_strings.push_back(entry);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);

    // A program that does not read the terminal gets a process group of its own, so
    // that a timeout ends whatever it started too.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    const bool own_group = request.input.has_value();
    if (own_group) {
        posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attributes, 0);
    }
    pid_t pid = 0;
    const int rc =
        ::posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (request.input) ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) {
        if (request.input) ::close(in[1]);
        ::close(out[0]);
        throw Error("cannot run " + program + ": " + std::strerror(rc));
    }
    if (request.input) {
        // The input is short (a line, a small document): it fits in the pipe buffer.
        struct sigaction ignore {
        }, old{};
        ignore.sa_handler = SIG_IGN;
        ::sigaction(SIGPIPE, &ignore, &old);
        [[maybe_unused]] auto written =
            ::write(in[1], request.input->data(), request.input->size());
        ::close(in[1]);
        ::sigaction(SIGPIPE, &old, nullptr);
    }

    ProcessRun result;
    std::ofstream log;
    if (!request.output_file.empty()) {
        log.open(request.output_file, std::ios::binary | std::ios::trunc);
        if (!log) {
            ::kill(own_group ? -pid : pid, SIGKILL);
            ::close(out[0]);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
            throw Error("cannot write " + request.output_file.string());
        }
    }
    const auto deadline = std::chrono::steady_clock::now() + request.timeout;
    char buf[4096];
    bool timed_out = false;
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{out[0], POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            timed_out = true;  // no answer, or poll failed: the program is ended either way
            break;
        }
        const ssize_t got = ::read(out[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        result.output.append(buf, static_cast<std::size_t>(got));
        if (log) {
            log.write(buf, static_cast<std::streamsize>(got));
            if (result.output.size() > 2 * kOutputLimit)
                result.output.erase(0, result.output.size() - kOutputLimit);
        } else if (result.output.size() > kOutputLimit) {
            break;
        }
    }
    if (log) {
        if (result.output.size() > kOutputLimit)
            result.output.erase(0, result.output.size() - kOutputLimit);
        log.flush();
        if (!log) throw Error("cannot write " + request.output_file.string());
    }
    ::close(out[0]);
    if (timed_out) ::kill(own_group ? -pid : pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
        throw TimeoutError(program + " did not finish within " +
                           std::to_string(request.timeout.count()) + " s");
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

}  // namespace dmc
