// gzip that gives, byte for byte, what zlib 1.2.13 gives for the same input handed
// to it at once (deflateInit2 with windowBits 31, memLevel 8, the default strategy;
// a header with mtime 0, no name and OS byte 255), at zlib's levels 4 to 9, while
// the input's stretches are parsed on several cores.
//
// Why this is possible: zlib's output is its parse (the literals and matches it
// chooses) coded in blocks of 16383 symbols. The parse at a position depends only
// on the 32 KiB before it and on whether a literal or a match is pending. A
// stretch parsed on its own from a fresh start soon reaches a position where its
// state equals the one the whole parse has there; from that position on, both
// parses are the same. Each stretch is parsed on its own thread, a little past its
// end; the seams are where the two parses meet, and the blocks are then coded in
// order as zlib codes them. A seam not found in the overlap (a long run of one
// repeated pattern can keep two parses out of step) is parsed again from the
// exact state, so the bytes never depend on the number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "image/compression.hpp"

namespace dmc::image {

struct DeflateOptions {
    // Parsing threads; 0: one per core. With 1, the stretches are parsed in turn.
    std::size_t threads = 0;
    // The stretch a thread parses, a multiple of 32 KiB of at least 64 KiB. The
    // stretches are parsed in order, so that the coding keeps up; 2 MiB parts a
    // layer finely enough for no core to wait long at its end (a 13 MB one took
    // 0.38 s on two cores in 4 MiB stretches, 0.32 s in 2 MiB ones).
    std::size_t stretch = std::size_t{2} << 20;
    // How far past its stretch a thread goes looking for the seam.
    std::size_t overlap = std::size_t{32} << 10;
    // Take the parse of inputs compressed before in this process where the bytes
    // are the same (image/deflate_library), and keep this one's for those after.
    bool reuse = true;
    bool remember = true;
    // The parses kept, in bytes (about 1.2 times their input): enough for the
    // layers of the four built-in templates for two archs, the oldest going first.
    std::size_t keep = std::size_t{768} << 20;
};

class ParallelGzip {
  public:
    // `level`: 4 to 9 (zlib's deflate_slow levels).
    ParallelGzip(int level, ByteSink sink, DeflateOptions options = {});
    ~ParallelGzip();
    ParallelGzip(const ParallelGzip&) = delete;
    ParallelGzip& operator=(const ParallelGzip&) = delete;

    void write(const void* data, std::size_t size);
    // Writes the end of the stream; call once.
    void finish();
    // Seams that had to be parsed again (for tests and the log).
    std::size_t reparsed() const;
    // Input bytes whose parse came from an earlier input.
    std::uint64_t reused() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dmc::image
