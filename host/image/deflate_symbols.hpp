// What the parts of image/deflate share: zlib's deflate constants (memLevel 8)
// and how a parse's symbols are written down.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dmc::image::deflate {

inline constexpr std::uint32_t kWSize = 32768;
inline constexpr std::uint32_t kWMask = kWSize - 1;
inline constexpr std::uint32_t kWindowSize = 2 * kWSize;
inline constexpr std::uint32_t kMinMatch = 3;
inline constexpr std::uint32_t kMaxMatch = 258;
inline constexpr std::uint32_t kMinLookahead = kMaxMatch + kMinMatch + 1;
inline constexpr std::uint32_t kMaxDist = kWSize - kMinLookahead;
// zlib codes a block every lit_bufsize - 1 symbols.
inline constexpr std::size_t kBlockSymbols = (std::size_t{1} << 14) - 1;

// A symbol: a literal byte; or a match, its length - 3 in the low byte and its
// distance above; or a mark that zlib's window slid by 32 KiB there; or the
// literal zlib adds after its loop, which does not end a block.
inline constexpr std::uint32_t kSlide = 1u << 31;
inline constexpr std::uint32_t kAfterLoop = 1u << 30;

inline std::uint32_t literal(std::uint8_t c) { return c; }
inline std::uint32_t match(std::uint32_t length, std::uint32_t distance) {
    return (length - kMinMatch) | (distance << 8);
}
inline std::uint32_t distance_of(std::uint32_t s) { return (s >> 8) & 0xffff; }
inline bool is_match(std::uint32_t s) { return !(s & kSlide) && distance_of(s) != 0; }
// Input bytes the symbol stands for.
inline std::uint32_t span(std::uint32_t s) {
    if (s & kSlide) return 0;
    return distance_of(s) == 0 ? 1 : (s & 0xff) + kMinMatch;
}

}  // namespace dmc::image::deflate
