#include "util/hashed_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc {

HashedFile::HashedFile(fs::path destination)
    : destination_(std::move(destination)), temporary_(temp_sibling(destination_)) {
    if (destination_.has_parent_path()) fs::create_directories(destination_.parent_path());
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) write_failed(destination_, errno);
}

HashedFile::~HashedFile() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(temporary_.c_str());
    }
}

void HashedFile::write(const void* data, std::size_t size) {
    if (!digest_.empty())
        throw Error(destination_.string() + " written to after its digest was taken");
    hash_.update(data, size);
    size_ += size;
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t written = ::write(fd_, bytes, size);
        if (written < 0) {
            if (errno == EINTR) continue;
            write_failed(destination_, errno);
        }
        bytes += written;
        size -= static_cast<std::size_t>(written);
    }
}

const std::string& HashedFile::sha256() {
    if (digest_.empty()) digest_ = hash_.hex();
    return digest_;
}

std::string HashedFile::commit() {
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
    return sha256();
}

}  // namespace dmc
