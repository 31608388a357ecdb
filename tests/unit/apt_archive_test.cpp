#include <gtest/gtest.h>
#include <lzma.h>

#include <algorithm>
#include <string>

#include "apt/archive.hpp"
#include "util/error.hpp"

namespace dmc::apt {
namespace {

TEST(Archive, SecuritySuites) {
    EXPECT_TRUE(security_suite("trixie-security"));
    EXPECT_TRUE(security_suite("buster/updates"));
    EXPECT_FALSE(security_suite("trixie-updates"));
    EXPECT_FALSE(security_suite("trixie"));
}

TEST(Archive, SnapshotMirrors) {
    EXPECT_TRUE(is_snapshot_mirror("http://s.example/archive/debian/20250520T000000Z"));
    EXPECT_TRUE(is_snapshot_mirror("http://s.example/archive/debian-security/20250520T101500Z/"));
    EXPECT_FALSE(is_snapshot_mirror("http://s.example/debian"));
    EXPECT_FALSE(is_snapshot_mirror("http://s.example/debian/20250520T000000Z"));
    EXPECT_FALSE(is_snapshot_mirror("http://s.example/archive/debian/20250520"));
    EXPECT_EQ(snapshot_mirror("http://s.example/", "http://m.example/debian-security/",
                              "20250520T000000Z"),
              "http://s.example/archive/debian-security/20250520T000000Z");
    // A snapshot mirror moved to another date keeps its archive.
    EXPECT_EQ(
        snapshot_mirror("http://s.example", "http://s.example/archive/debian/20240101T000000Z",
                        "20250520T000000Z"),
        "http://s.example/archive/debian/20250520T000000Z");
}

TEST(Archive, SnapshotDateOfARelease) {
    EXPECT_EQ(snapshot_date_of("Sat, 08 Nov 2025 09:47:00 UTC"), "20251108T094700Z");
    EXPECT_EQ(snapshot_date_of("Sat, 08 Nov 2025 23:47:00 UTC", 6 * 3600), "20251109T054700Z");
    EXPECT_EQ(snapshot_date_of("not a date"), "");
}

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

TEST(Archive, TheIndexFormTakenFollowsTheMirrorsRate) {
    EXPECT_STREQ(index_formats(std::nullopt)[0], ".xz");  // not measured yet
    EXPECT_STREQ(index_formats(kFastMirror / 10)[0], ".xz");
    EXPECT_STREQ(index_formats(kFastMirror)[0], ".gz");
    EXPECT_STREQ(index_formats(kFastMirror)[1], ".xz");  // where there is no gzip form
    EXPECT_STREQ(index_formats(kFastMirror)[3], "");     // nor any compressed one
}

TEST(Archive, DecompressesAnIndexOfSeveralXzBlocksToTheSameBytes) {
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

TEST(Archive, DecompressesInPiecesAsTheTextComes) {
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
