// The indexes' decoders (apt/decompress: xz, gzip, and the rest through libarchive),
// which see a download's bytes as they arrive, before its digest is known. The
// first byte of the input gives the size of the pieces the rest is handed over in;
// decoded in pieces or whole, a file gives the same text, or a dmc::Error both ways.
#include <cstddef>
#include <cstdint>
#include <string>

#include "apt/decompress.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using namespace dmc;
    if (size == 0) return 0;
    const std::size_t step = std::size_t{data[0]} + 1;
    const std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
    constexpr std::uint64_t kLimit = std::uint64_t{1} << 22;
    std::string whole, pieces;
    const bool at_once = fuzz::accepted([&] {
        apt::decompress_to(file, "Packages", kLimit,
                           [&](std::string_view text) { whole.append(text); });
    });
    const bool in_pieces = fuzz::accepted([&] {
        apt::Decoder decoder("Packages", kLimit,
                             [&](std::string_view text) { pieces.append(text); });
        for (std::size_t at = 0; at < file.size(); at += step)
            decoder.add(std::string_view(file).substr(at, step));
        decoder.finish();
    });
    fuzz::check(at_once == in_pieces, "decoded whole and in pieces, one failed");
    if (at_once) fuzz::check(whole == pieces, "decoded whole and in pieces, the texts differ");
    fuzz::check(whole.size() <= kLimit && pieces.size() <= kLimit, "more text than the limit");
    return 0;
}
