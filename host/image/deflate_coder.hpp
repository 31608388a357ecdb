// The blocks of a deflate stream, coded from a parse's symbols exactly as zlib
// 1.2.13's trees.c codes them: a block every 16383 symbols, stored, fixed or
// dynamic Huffman codes, whichever zlib would pick.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "image/compression.hpp"

namespace dmc::image::deflate {

class BlockCoder {
  public:
    explicit BlockCoder(const ByteSink& sink);
    ~BlockCoder();
    BlockCoder(const BlockCoder&) = delete;
    BlockCoder& operator=(const BlockCoder&) = delete;

    // A byte outside the deflate data (the gzip header and trailer).
    void put_byte(std::uint8_t b);
    // The next symbols (deflate_symbols.hpp); the input they stand for is at
    // w[pos - off], for a stored block's bytes.
    void add(const std::uint32_t* symbols, std::size_t count, const std::uint8_t* w,
             std::uint64_t off);
    // The last block.
    void finish(const std::uint8_t* w, std::uint64_t off);
    // Hands what is written to the sink.
    void drain();

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dmc::image::deflate
