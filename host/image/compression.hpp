// Streaming gzip/zstd compression with fixed parameters, so that the same
// uncompressed bytes always give the same compressed bytes. gzip at levels 4 to 9
// is dmc's own (image/deflate): zlib 1.2.13's bytes whatever zlib the host has,
// parsed on every core. Levels 1 to 3 and zstd are the host's zlib and libzstd,
// whose bytes can change with their versions.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

namespace dmc::image {

enum class Compression { gzip, zstd, none };

// gzip 6 (zlib's default): level 9 costs ~3.4x the CPU for ~0.7% smaller
// layers on Debian binaries. zstd 9: ~10% smaller than gzip 6 at half its
// CPU; higher levels get slow quickly for little gain.
inline constexpr int default_gzip_level = 6;
inline constexpr int default_zstd_level = 9;

// "gzip", "zstd" or "none".
std::string_view compression_name(Compression compression);

// Receives bytes as they are produced.
using ByteSink = std::function<void(const void* data, std::size_t size)>;

// Compresses a stream of bytes into a sink. `level` 0 picks the default.
//  - gzip: one member, no file name, mtime 0, OS byte 255 ("unknown", which
//    does not depend on the build host), no header CRC.
//  - zstd: one frame, single-threaded (multi-threaded zstd gives other bytes),
//    content checksum on, no content size (the size is not known up front).
//  - none: passes the bytes through.
class Compressor {
  public:
    // `remember`: gzip keeps the parse for later compressions in this process to
    // take where their bytes are the same; no use when none follows.
    static std::unique_ptr<Compressor> create(Compression compression, int level, ByteSink sink,
                                              bool remember = true);
    virtual ~Compressor() = default;
    virtual void write(const void* data, std::size_t size) = 0;
    // Flushes the end of the stream into the sink; call once.
    virtual void finish() = 0;
};

// Streams the decompressed content of the file at `path` into `sink`.
void decompress_file(const std::filesystem::path& path, Compression compression,
                     const ByteSink& sink);

}  // namespace dmc::image
