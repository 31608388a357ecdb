#include <gtest/gtest.h>
#include <lzma.h>
#include <zlib.h>

#include <algorithm>
#include <string>

#include "apt/decompress.hpp"
#include "util/error.hpp"

namespace dmc::apt {
namespace {

// xz in blocks of `block` bytes, as the archive's large indexes are compressed.
std::string xz_in_blocks(const std::string& text, std::uint64_t block) {
    lzma_mt mt{};
    mt.threads = 2;
    mt.block_size = block;
    mt.preset = 1;
    mt.check = LZMA_CHECK_CRC64;
    lzma_stream s = LZMA_STREAM_INIT;
    EXPECT_EQ(lzma_stream_encoder_mt(&s, &mt), LZMA_OK);
    std::string out(text.size() + (1 << 16), '\0');
    s.next_in = reinterpret_cast<const std::uint8_t*>(text.data());
    s.avail_in = text.size();
    s.next_out = reinterpret_cast<std::uint8_t*>(out.data());
    s.avail_out = out.size();
    lzma_ret rc;
    do rc = lzma_code(&s, LZMA_FINISH);
    while (rc == LZMA_OK);
    EXPECT_EQ(rc, LZMA_STREAM_END);
    out.resize(out.size() - s.avail_out);
    lzma_end(&s);
    return out;
}

std::string error_of(const std::string& data, std::uint64_t max_bytes) {
    try {
        decompress(data, "Packages.xz", max_bytes);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

// gzip of `text`, as `gzip -n` writes it.
std::string gzip_of(const std::string& text) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&z, text.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string some_index(std::size_t size) {
    std::string text;
    for (int i = 0; text.size() < size; ++i)
        text += "Package: p" + std::to_string(i) + "\nVersion: " + std::to_string(i % 977) +
                "\nDepends: libc6 (>= 2." + std::to_string(i % 41) + ")\n\n";
    return text;
}

// The text of a file handed over in pieces of `step` bytes, as a download brings it.
std::string decoded_in_steps(const std::string& data, std::size_t step, std::uint64_t max_bytes,
                             std::size_t* pieces = nullptr) {
    std::string out;
    Decoder decoder("Packages", max_bytes, [&](std::string_view piece) {
        out += piece;
        if (pieces) ++*pieces;
    });
    for (std::size_t at = 0; at < data.size(); at += step)
        decoder.add(std::string_view(data).substr(at, step));
    decoder.finish();
    return out;
}

std::string step_error(const std::string& data, std::size_t step, std::uint64_t max_bytes) {
    try {
        decoded_in_steps(data, step, max_bytes);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

// Every form gives the same text however the bytes are cut, and the text comes
// while the bytes still do.
TEST(Decompress, TheTextIsTheSameHoweverTheBytesArrive) {
    const std::string text = some_index(3u << 20);
    const std::string xz = xz_in_blocks(text, 1 << 20), gz = gzip_of(text);
    for (std::size_t step : {7u, 4096u, 65536u, 1u << 22}) {
        EXPECT_EQ(decoded_in_steps(xz, step, text.size()), text) << step;
        EXPECT_EQ(decoded_in_steps(gz, step, text.size()), text) << step;
        EXPECT_EQ(decoded_in_steps(text, step, text.size()), text) << step;  // plain
    }
    const std::string small = some_index(50000);  // and a byte at a time
    EXPECT_EQ(decoded_in_steps(xz_in_blocks(small, 1 << 20), 1, small.size()), small);
    EXPECT_EQ(decoded_in_steps(gzip_of(small), 1, small.size()), small);
    EXPECT_EQ(decoded_in_steps(small, 1, small.size()), small);
    // gzip members one after another are one text, as gzip -d gives.
    EXPECT_EQ(decoded_in_steps(gz + gzip_of("more\n"), 4096, text.size() + 5), text + "more\n");
    std::size_t pieces = 0;
    decoded_in_steps(gz, 65536, text.size(), &pieces);
    EXPECT_GT(pieces, 2u);
}

// A cut, changed or oversized gzip file is refused, naming it.
TEST(Decompress, ABadGzipFileIsRefused) {
    const std::string text = some_index(1u << 20);
    const std::string gz = gzip_of(text);
    EXPECT_NE(step_error(gz.substr(0, gz.size() / 2), 4096, text.size())
                  .find("Packages is corrupt: the gzip data ends early"),
              std::string::npos);
    std::string changed = gz;
    for (std::size_t i = gz.size() / 3; i < gz.size() / 3 + 64; ++i)
        changed[i] = static_cast<char>(~changed[i]);
    EXPECT_NE(step_error(changed, 4096, text.size()).find("Packages is corrupt"),
              std::string::npos);
    EXPECT_NE(step_error(gz, 4096, text.size() - 1)
                  .find("Packages decompresses to more than " + std::to_string(text.size() - 1)),
              std::string::npos);
    EXPECT_EQ(step_error(gz, 4096, text.size()), "(no error)");
    // Its CRC (the trailer's first four bytes) and its length (the last four) checked.
    for (const std::size_t from_end : {8u, 1u}) {
        std::string trailer = gz;
        trailer[gz.size() - from_end] = static_cast<char>(~trailer[gz.size() - from_end]);
        EXPECT_NE(step_error(trailer, 4096, text.size()).find("Packages is corrupt"),
                  std::string::npos)
            << from_end;
    }
    // Bytes after the last member that are no gzip.
    EXPECT_NE(step_error(gz + "not gzip", 4096, text.size()).find("Packages is corrupt"),
              std::string::npos);
}

TEST(Decompress, DecompressesAnIndexOfSeveralXzBlocksToTheSameBytes) {
    std::string text;
    for (int i = 0; text.size() < (5u << 20); ++i)
        text += "Package: p" + std::to_string(i) + "\nVersion: " + std::to_string(i * 7 % 1000) +
                "\nDepends: libc6 (>= 2." + std::to_string(i % 41) + ")\n\n";
    const std::string xz = xz_in_blocks(text, 1 << 20);
    EXPECT_EQ(decompress(xz, "Packages.xz", text.size()), text);
    EXPECT_EQ(decompress(xz + xz, "Packages.xz", 2 * text.size()), text + text);  // concatenated
    EXPECT_EQ(decompress(xz_in_blocks("", 1 << 20), "Packages.xz", 0), "");
    // One byte more than allowed is a bomb; a cut or changed file is corrupt.
    EXPECT_NE(error_of(xz, text.size() - 1).find("Packages.xz decompresses to more than"),
              std::string::npos);
    EXPECT_NE(error_of(xz.substr(0, xz.size() / 2), text.size()).find("Packages.xz is corrupt"),
              std::string::npos);
    std::string changed = xz;
    changed[xz.size() / 3] = static_cast<char>(~changed[xz.size() / 3]);
    EXPECT_NE(error_of(changed, text.size()).find("Packages.xz is corrupt"), std::string::npos);
}

TEST(Decompress, DecompressesInPiecesAsTheTextComes) {
    std::string text;
    for (int i = 0; text.size() < (3u << 20); ++i)
        text += "Package: p" + std::to_string(i) + "\nVersion: " + std::to_string(i) + "\n\n";
    const std::string xz = xz_in_blocks(text, 1 << 20);
    std::string joined;
    std::size_t pieces = 0, largest = 0;
    decompress_to(xz, "Packages.xz", text.size(), [&](std::string_view piece) {
        joined += piece;
        ++pieces;
        largest = std::max(largest, piece.size());
    });
    EXPECT_EQ(joined, text);
    EXPECT_GT(pieces, 2u);  // the text comes while the rest is decoded
    EXPECT_LE(largest, std::size_t{1} << 20);
    // A bomb: the sink is never given more than allowed.
    std::size_t given = 0;
    EXPECT_THROW(decompress_to(xz, "Packages.xz", text.size() / 2,
                               [&](std::string_view piece) { given += piece.size(); }),
                 Error);
    EXPECT_LE(given, text.size() / 2);
    // What the sink throws ends the decompression.
    EXPECT_THROW(decompress_to(xz, "Packages.xz", text.size(),
                               [](std::string_view) { throw Error("disk full"); }),
                 Error);
}

}  // namespace
}  // namespace dmc::apt
