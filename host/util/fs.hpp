// File helpers that keep outputs consistent: everything is written to a
// temporary name next to its destination and renamed into place.
#pragma once

#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dmc {

std::string read_file(const std::filesystem::path& path);

// Writes data to path atomically (temporary file, fsync, rename), with these
// permission bits (less the umask): 0600 keeps a secret to its owner from the start.
void write_file_atomic(const std::filesystem::path& path, std::string_view data,
                       unsigned mode = 0644);

// A write to `path` failed with errno `err`: a full disk (or quota) throws
// std::filesystem::filesystem_error, which the app names after the setting of the
// directory that is full; anything else an Error naming the file.
[[noreturn]] void write_failed(const std::filesystem::path& path, int err);
// Whether errno `err` says the disk (or the quota) is full.
inline bool disk_full(int err) { return err == ENOSPC || err == EDQUOT; }

// Why `dir` cannot be used as a directory dmc writes into, without changing
// anything: it is a file, a parent of it is a file, or it (or the existing parent it
// would be created in) is not writable. nullopt when it can be used.
std::optional<std::string> unusable_directory(const std::filesystem::path& dir);

// A temporary path next to `path` that is unique to this process and call:
// ".<name>.tmp.<pid>.<n>".
std::filesystem::path temp_sibling(const std::filesystem::path& path);

// Removes the temporary siblings that processes which are gone (killed, or the
// machine lost power) left in `dir` and its subdirectories up to `depth` levels
// down; returns how many. A live process's files are left alone. The directories in
// `inside_only` are looked into but not below (a store of many small files whose
// temporaries are all at its top).
std::size_t remove_stale_temps(const std::filesystem::path& dir, int depth,
                               const std::vector<std::filesystem::path>& inside_only = {});

// An advisory lock (flock) on a file, held while the object lives: how concurrent
// dmc processes share the cache. Exclusive, or shared with other shared holders.
class FileLock {
  public:
    enum class Wait { yes, no };
    enum class Mode { exclusive, shared };
    // Wait::no gives up at once when another process holds the lock: see held().
    explicit FileLock(const std::filesystem::path& path, Wait wait = Wait::yes,
                      Mode mode = Mode::exclusive);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    bool held() const { return held_; }

  private:
    int fd_;
    bool held_ = false;
};

// A fresh private directory under the system's temporary directory, removed
// with its content when the object dies.
class TempDir {
  public:
    explicit TempDir(std::string_view prefix = "dmc");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace dmc
