// An output file that appears under its final name only once complete: written to
// a temporary sibling, synced and renamed into place.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace dmc {

class AtomicFile {
  public:
    // Creates the destination's directory and a temporary sibling of it (util/fs
    // temp_sibling) with these permission bits, less the umask.
    explicit AtomicFile(std::filesystem::path destination, unsigned mode = 0644);
    // Removes the temporary file unless commit() succeeded.
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const void* data, std::size_t size);
    void write(std::string_view data) { write(data.data(), data.size()); }
    // Syncs, so that a write the disk did not take (quota, I/O error) is never
    // renamed into place, and renames. A failure throws as util/fs write_failed.
    void commit();
    const std::filesystem::path& destination() const { return destination_; }

  private:
    void abandon();
    std::filesystem::path destination_;
    std::filesystem::path temporary_;
    int fd_ = -1;
};

}  // namespace dmc
