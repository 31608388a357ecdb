#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc {

AtomicFile::AtomicFile(fs::path destination, unsigned mode)
    : destination_(std::move(destination)), temporary_(temp_sibling(destination_)) {
    if (destination_.has_parent_path()) fs::create_directories(destination_.parent_path());
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd_ < 0) write_failed(destination_, errno);
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) abandon();
}

void AtomicFile::abandon() {
    ::close(fd_);
    fd_ = -1;
    ::unlink(temporary_.c_str());
}

void AtomicFile::write(const void* data, std::size_t size) {
    if (fd_ < 0) throw Error(destination_.string() + " written to after it was committed");
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t written = ::write(fd_, bytes, size);
        if (written < 0) {
            if (errno == EINTR) continue;
            const int error = errno;
            abandon();
            write_failed(destination_, error);
        }
        bytes += written;
        size -= static_cast<std::size_t>(written);
    }
}

void AtomicFile::commit() {
    if (fd_ < 0) throw Error(destination_.string() + " committed twice");
    const bool synced = ::fsync(fd_) == 0;
    int error = errno;
    const bool closed = ::close(fd_) == 0;
    if (synced && !closed) error = errno;
    fd_ = -1;
    if (!synced || !closed) {
        ::unlink(temporary_.c_str());
        write_failed(destination_, error);
    }
    if (::rename(temporary_.c_str(), destination_.c_str()) != 0) {
        error = errno;
        ::unlink(temporary_.c_str());
        write_failed(destination_, error);
    }
}

}  // namespace dmc
