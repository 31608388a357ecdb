#include "util/fs.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/atomic_file.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;

namespace dmc {

std::optional<std::string> unusable_directory(const fs::path& dir) {
    std::error_code ec;
    fs::path at = dir.empty() ? fs::path(".") : dir;
    bool existing = true;
    for (;;) {
        const auto status = fs::status(at, ec);
        if (fs::exists(status)) {
            if (!fs::is_directory(status))
                return existing ? "it is not a directory"
                                : "it cannot be created: " + at.string() + " is not a directory";
            if (::access(at.c_str(), W_OK | X_OK) != 0)
                return (existing ? "it is not writable: "
                                 : "it cannot be created in " + at.string() + ": ") +
                       std::string(std::strerror(errno));
            return std::nullopt;
        }
        if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
            return "it cannot be looked at: " + ec.message();
        existing = false;
        if (!at.has_relative_path() || at.parent_path() == at) return std::nullopt;
        at = at.parent_path();
        if (at.empty()) at = ".";
    }
}

std::string read_file(const fs::path& path) {
    // One read into a buffer of the file's size: index files are tens of MB.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error("cannot read " + path.string() + ": " + std::strerror(errno));
    std::string out;
    struct stat st;
    if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            ::close(fd);
            throw Error("cannot read " + path.string() + ": " + std::strerror(err));
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

fs::path temp_sibling(const fs::path& path) {
    static std::atomic<unsigned> counter{0};
    return path.parent_path() / ("." + path.filename().string() + ".tmp." +
                                 std::to_string(::getpid()) + "." + std::to_string(counter++));
}

namespace {

// The process id in ".<name>.tmp.<pid>.<n>", or 0 when `name` is not such a name.
pid_t temp_owner(const std::string& name) {
    if (name.size() < 2 || name[0] != '.') return 0;
    const auto tmp = name.rfind(".tmp.");
    if (tmp == std::string::npos || tmp == 0) return 0;
    const std::string rest = name.substr(tmp + 5);
    const auto dot = rest.find('.');
    if (dot == 0 || dot == std::string::npos || dot > 9) return 0;
    pid_t pid = 0;
    for (std::size_t i = 0; i < dot; ++i) {
        if (rest[i] < '0' || rest[i] > '9') return 0;
        pid = pid * 10 + (rest[i] - '0');
    }
    return pid;
}

}  // namespace

std::size_t remove_stale_temps(const fs::path& dir, int depth,
                               const std::vector<fs::path>& inside_only) {
    std::size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (const pid_t pid = temp_owner(name); pid > 0) {
            if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) {
                fs::remove_all(entry.path(), ec);
                if (!ec) ++removed;
            }
            continue;
        }
        if (depth > 0 && entry.is_directory(ec) && !entry.is_symlink(ec)) {
            const bool shallow = std::find(inside_only.begin(), inside_only.end(), entry.path()) !=
                                 inside_only.end();
            removed += remove_stale_temps(entry.path(), shallow ? 0 : depth - 1, inside_only);
        }
    }
    return removed;
}

void write_failed(const fs::path& path, int err) {
    if (disk_full(err))
        throw fs::filesystem_error("cannot write", path,
                                   std::error_code(err, std::generic_category()));
    throw Error("cannot write " + path.string() + ": " + std::strerror(err));
}

void write_file_atomic(const fs::path& path, std::string_view data, unsigned mode) {
    AtomicFile file(path, mode);
    file.write(data);
    file.commit();
}

FileLock::FileLock(const fs::path& path, Wait wait, Mode mode) {
    fs::create_directories(path.parent_path());
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error("cannot lock " + path.string() + ": " + std::strerror(errno));
    const int how = (mode == Mode::shared ? LOCK_SH : LOCK_EX) | (wait == Wait::yes ? 0 : LOCK_NB);
    int rc = 0;
    while ((rc = ::flock(fd_, how)) != 0 && errno == EINTR) {
    }
    held_ = rc == 0;
}

FileLock::~FileLock() { ::close(fd_); }

TempDir::TempDir(std::string_view prefix) {
    std::string pattern = (fs::temp_directory_path() / (std::string(prefix) + ".XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
        throw Error("cannot create a temporary directory: " + std::string(std::strerror(errno)));
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

}  // namespace dmc
