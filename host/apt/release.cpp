#include "apt/release.hpp"

#include <fcntl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "apt/deb822.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dmc::apt {
namespace {

struct GpgvResult {
    int status = -1;
    std::string output;     // the signed text (for --output -)
    std::string status_fd;  // machine-readable status lines
};

// Runs gpgv with its status on a pipe; no shell, arguments passed as they are.
GpgvResult run_gpgv(const std::vector<std::string>& args) {
    // Other threads may run gpgv at once (a mirror's suites are verified together):
    // the pipes are not inherited by their children, and the child only calls what
    // is safe between fork and exec (nothing that allocates).
    int out_pipe[2], status_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw Error("cannot run gpgv: pipe failed");
    if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        throw Error("cannot run gpgv: pipe failed");
    }
    std::string status_fd = std::to_string(status_pipe[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>("gpgv"));
    argv.push_back(const_cast<char*>("--status-fd"));
    argv.push_back(status_fd.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        for (int fd : {out_pipe[0], out_pipe[1], status_pipe[0], status_pipe[1]}) ::close(fd);
        throw Error("cannot run gpgv: fork failed");
    }
    if (pid == 0) {
        ::dup2(out_pipe[1], STDOUT_FILENO);
        int devnull = ::open("/dev/null", O_WRONLY);
        if (devnull >= 0) ::dup2(devnull, STDERR_FILENO);
        ::fcntl(status_pipe[1], F_SETFD, 0);  // the one pipe gpgv keeps
        ::execvp("gpgv", argv.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(status_pipe[1]);
    GpgvResult r;
    // Read both pipes; gpgv's output is small enough that sequential reads with
    // the status pipe first could block, so poll them together.
    char buf[65536];
    int fds[2] = {out_pipe[0], status_pipe[0]};
    std::string* sinks[2] = {&r.output, &r.status_fd};
    bool open[2] = {true, true};
    while (open[0] || open[1]) {
        fd_set set;
        FD_ZERO(&set);
        int maxfd = -1;
        for (int i = 0; i < 2; ++i)
            if (open[i]) {
                FD_SET(fds[i], &set);
                maxfd = std::max(maxfd, fds[i]);
            }
        if (::select(maxfd + 1, &set, nullptr, nullptr, nullptr) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (!open[i] || !FD_ISSET(fds[i], &set)) continue;
            ssize_t n = ::read(fds[i], buf, sizeof buf);
            if (n <= 0) {
                open[i] = false;
                ::close(fds[i]);
            } else {
                sinks[i]->append(buf, static_cast<size_t>(n));
            }
        }
    }
    int wstatus = 0;
    ::waitpid(pid, &wstatus, 0);
    r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    if (r.status == 127) throw Error("gpgv is not installed; install the gpgv package");
    return r;
}

std::string why_not_verified(const GpgvResult& r, const std::string& keyring) {
    const auto& s = r.status_fd;
    if (s.find("[GNUPG:] BADSIG") != std::string::npos) return "BAD signature";
    if (s.find("[GNUPG:] NO_PUBKEY") != std::string::npos)
        return "signed by a key that is not in " + keyring;
    if (s.find("[GNUPG:] EXPKEYSIG") != std::string::npos) return "signed by an expired key";
    if (s.find("[GNUPG:] REVKEYSIG") != std::string::npos) return "signed by a revoked key";
    if (s.find("[GNUPG:] NODATA") != std::string::npos) return "no signature";
    return "not verified (gpgv exit status " + std::to_string(r.status) + ")";
}

void check_keyring(const std::string& keyring) {
    std::error_code ec;
    if (!fs::is_regular_file(keyring, ec))
        throw Error("keyring " + keyring +
                    " does not exist; install debian-archive-keyring or set the mirror's keyring");
}

}  // namespace

std::optional<std::time_t> parse_release_date(const std::string& text) {
    struct tm tm;
    std::memset(&tm, 0, sizeof tm);
    const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
    if (end == nullptr) return std::nullopt;
    return ::timegm(&tm);
}

ReleaseFile parse_release(const std::string& text) {
    ReleaseFile r;
    Deb822 doc(text);
    auto it = doc.begin();
    if (it == doc.end()) throw Error("the Release file is empty");
    Stanza s = *it;
    r.origin = s.get("Origin");
    r.suite = s.get("Suite");
    r.codename = s.get("Codename");
    r.date = s.get("Date");
    if (auto v = s.find("Valid-Until")) r.valid_until = parse_release_date(std::string(*v));
    r.architectures = words(s.get("Architectures"));
    r.components = words(s.get("Components"));
    r.acquire_by_hash = s.get("Acquire-By-Hash") == "yes";
    std::istringstream lines{std::string(s.get("SHA256"))};
    std::string line;
    while (std::getline(lines, line)) {
        auto w = words(line);
        if (w.size() != 3) continue;
        ReleaseEntry e;
        e.sha256 = w[0];
        try {
            e.size = std::stoull(w[1]);
        } catch (const std::exception&) {
            continue;
        }
        r.files[w[2]] = e;
    }
    return r;
}

std::string verify_inrelease(const std::string& inrelease, const std::string& keyring,
                             const std::string& what) {
    check_keyring(keyring);
    signed_message(inrelease, what);
    TempDir tmp("dmc-gpgv");
    const auto file = tmp.path() / "InRelease";
    write_file_atomic(file, inrelease);
    auto r = run_gpgv({"--keyring", keyring, "--output", "-", file.string()});
    if (r.status != 0 || r.status_fd.find("[GNUPG:] VALIDSIG") == std::string::npos)
        throw Error(what + ": " + why_not_verified(r, keyring) +
                    "; refusing it (use --allow-unsigned only if you trust this mirror)");
    return r.output;
}

void verify_detached(const std::string& release, const std::string& signature,
                     const std::string& keyring, const std::string& what) {
    check_keyring(keyring);
    TempDir tmp("dmc-gpgv");
    write_file_atomic(tmp.path() / "Release", release);
    write_file_atomic(tmp.path() / "Release.gpg", signature);
    auto r = run_gpgv({"--keyring", keyring, (tmp.path() / "Release.gpg").string(),
                       (tmp.path() / "Release").string()});
    if (r.status != 0 || r.status_fd.find("[GNUPG:] VALIDSIG") == std::string::npos)
        throw Error(what + ": " + why_not_verified(r, keyring) +
                    "; refusing it (use --allow-unsigned only if you trust this mirror)");
}

std::string signed_message(const std::string& inrelease, const std::string& what) {
    // One signed part and nothing else, as apt requires: gpgv would check every part
    // of a file with two, and text outside the armour is not signed at all.
    const std::string begin = "-----BEGIN PGP SIGNED MESSAGE-----";
    const std::string sig_begin = "-----BEGIN PGP SIGNATURE-----";
    const std::string sig_end = "-----END PGP SIGNATURE-----";
    auto refuse = [&](const std::string& why, std::size_t line) {
        throw Error(what + ":" + std::to_string(line) + ": " + why +
                    "; refusing it (the mirror is broken or tampered with)");
    };
    // No armour at all: unsigned (gpgv says so; --allow-unsigned takes it as it is).
    if (inrelease.find("-----BEGIN PGP") == std::string::npos) return inrelease;
    enum class Part { start, headers, message, signature, after } part = Part::start;
    std::string out;
    std::size_t number = 0, pos = 0;
    while (pos < inrelease.size()) {
        auto end = inrelease.find('\n', pos);
        if (end == std::string::npos) end = inrelease.size();
        std::string_view line(inrelease.data() + pos, end - pos);
        pos = end + 1;
        ++number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        switch (part) {
            case Part::start:
                if (line != begin) refuse("it does not start with " + begin, number);
                part = Part::headers;
                break;
            case Part::headers:
                if (line.empty())
                    part = Part::message;
                else if (line.rfind("Hash: ", 0) != 0)
                    refuse("unexpected armour header " + quote_value(cut_for_console(line, 80, 1)),
                           number);
                break;
            case Part::message:
                if (line == sig_begin) {
                    part = Part::signature;
                } else if (line.rfind("- ", 0) == 0) {
                    out.append(line.substr(2)).push_back('\n');
                } else if (line.starts_with('-')) {
                    refuse("an armour line inside the signed text: " +
                               quote_value(cut_for_console(line, 80, 1)),
                           number);
                } else {
                    out.append(line).push_back('\n');
                }
                break;
            case Part::signature:
                if (line == sig_end) part = Part::after;
                break;
            case Part::after:
                if (!trim(line).empty()) refuse("text after the signature", number);
                break;
        }
    }
    if (part != Part::after)
        refuse(part == Part::signature ? "the signature is cut off" : "no signature", number);
    return out;
}

}  // namespace dmc::apt
