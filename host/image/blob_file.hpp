// An output file that is hashed as it is written and appears under its final
// name only once complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "util/sha256.hpp"

namespace dmc::image {

class BlobFile {
  public:
    // Writes to a temporary sibling of `destination` (util/fs temp_sibling).
    explicit BlobFile(std::filesystem::path destination);
    // Removes the temporary file unless commit() succeeded.
    ~BlobFile();
    BlobFile(const BlobFile&) = delete;
    BlobFile& operator=(const BlobFile&) = delete;

    void write(const void* data, std::size_t size);
    std::uint64_t size() const { return size_; }
    // Syncs, renames into place and returns the SHA-256 (hex) of the content.
    std::string commit();

  private:
    std::filesystem::path destination_;
    std::filesystem::path temporary_;
    int fd_ = -1;
    Sha256 hash_;
    std::uint64_t size_ = 0;
};

}  // namespace dmc::image
