// An output file that is hashed as it is written and appears under its final
// name only once complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/atomic_file.hpp"
#include "util/sha256.hpp"

namespace dmc {

class HashedFile {
  public:
    // Writes to a temporary sibling of `destination` (util/fs temp_sibling).
    explicit HashedFile(std::filesystem::path destination);
    HashedFile(const HashedFile&) = delete;
    HashedFile& operator=(const HashedFile&) = delete;

    void write(const void* data, std::size_t size);
    void write(std::string_view data) { write(data.data(), data.size()); }
    std::uint64_t size() const { return size_; }
    // The SHA-256 (hex) of what was written; nothing may be written after it.
    const std::string& sha256();
    // Syncs, renames into place and returns the SHA-256 (hex) of the content.
    std::string commit();

  private:
    AtomicFile file_;  // removed unless committed
    Sha256 hash_;
    std::string digest_;  // once sha256() finished the hash
    std::uint64_t size_ = 0;
};

}  // namespace dmc
