// A tar stream writer (libarchive, "restricted pax" format) whose bytes depend
// only on what is written: no user or group names, no atime/ctime, no xattrs,
// no host lookups, and file names encoded the same whatever the locale.
//
// Restricted pax is plain ustar unless an entry needs more (a name that does
// not fit ustar's 100+155 bytes, non-ASCII names, ids >= 2^18); only then is a
// pax 'x' header written in front of that entry. Pax rather than GNU tar
// because it is the POSIX format, and ustar's prefix field keeps most long
// Debian paths (/usr/share/doc/...) in a single header.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include "image/compression.hpp"

struct archive;

namespace dmc::image {

struct TarHeader {
    enum class Kind { file, directory, symlink, hardlink };
    std::string name;  // as stored: relative, no leading "./"; directories end in "/"
    Kind kind = Kind::file;
    std::uint32_t mode = 0644;  // permission bits only
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::int64_t mtime = 0;
    std::uint64_t size = 0;   // files only
    std::string link_target;  // symlink target, or the stored name a hardlink points to
};

class TarWriter {
  public:
    explicit TarWriter(ByteSink sink);
    ~TarWriter();
    TarWriter(const TarWriter&) = delete;
    TarWriter& operator=(const TarWriter&) = delete;

    void write_header(const TarHeader& header);
    // Content of the last file header; exactly `size` bytes in total.
    void write_data(const void* data, std::size_t size);
    // Writes the end-of-archive marker; the writer is unusable afterwards.
    void finish();

  private:
    friend struct TarWriterCallbacks;
    void check(int status, const std::string& what);

    ByteSink sink_;
    archive* archive_;
    std::exception_ptr sink_error_;  // thrown by the sink inside a libarchive callback
    bool finished_ = false;
};

}  // namespace dmc::image
