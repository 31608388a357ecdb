// The parallel gzip must give zlib's bytes exactly: every test here compares
// with zlib itself given the same input at once.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "image/deflate.hpp"
#include "util/error.hpp"

using dmc::image::DeflateOptions;
using dmc::image::ParallelGzip;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes zlib_gzip(const Bytes& in, int level) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    gz_header header{};
    header.os = 255;
    EXPECT_EQ(deflateSetHeader(&z, &header), Z_OK);
    Bytes out(deflateBound(&z, in.size()) + 64);
    z.next_in = const_cast<std::uint8_t*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

// Ours, fed in pieces of `piece` bytes (0: all at once).
Bytes ours(const Bytes& in, int level, DeflateOptions options, std::size_t piece = 0,
           std::size_t* reparsed = nullptr) {
    Bytes out;
    ParallelGzip gz(
        level,
        [&](const void* data, std::size_t size) {
            const auto* b = static_cast<const std::uint8_t*>(data);
            out.insert(out.end(), b, b + size);
        },
        options);
    if (piece == 0) piece = in.size() + 1;
    for (std::size_t i = 0; i < in.size(); i += piece)
        gz.write(in.data() + i, std::min(piece, in.size() - i));
    gz.finish();
    if (reparsed != nullptr) *reparsed = gz.reparsed();
    return out;
}

Bytes random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    Bytes b(n);
    for (auto& c : b) c = static_cast<std::uint8_t>(rng());
    return b;
}

// Words from a small vocabulary: compressible like text, with matches of all
// lengths and distances.
Bytes text(std::size_t n, unsigned seed) {
    static const char* words[] = {
        "the ", "nginx ", "worker ",  "process ", "\n",         "listen ", "80;\n", "server ",
        "{ ",   "} ",     "include ", "/etc/",    "mime.types", "a",       "zz",    "0123456789"};
    std::mt19937 rng(seed);
    Bytes b;
    while (b.size() < n) {
        const char* w = words[rng() % (sizeof(words) / sizeof(*words))];
        b.insert(b.end(), w, w + std::strlen(w));
    }
    b.resize(n);
    return b;
}

Bytes file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

// What a layer holds: text, binaries, incompressible stretches (stored blocks),
// long runs of zeros.
Bytes layer_like() {
    Bytes b = text(300000, 1);
    for (const char* path : {"/bin/sh", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/bin/ls"}) {
        const Bytes f = file(path);
        b.insert(b.end(), f.begin(), f.end());
    }
    const Bytes r = random_bytes(200000, 2);
    b.insert(b.end(), r.begin(), r.end());
    b.insert(b.end(), 150000, 0);
    const Bytes t = text(500000, 3);
    b.insert(b.end(), t.begin(), t.end());
    return b;
}

DeflateOptions small_stretches(std::size_t threads = 2) {
    DeflateOptions o;
    o.threads = threads;
    o.stretch = 64 << 10;
    o.overlap = 4 << 10;
    return o;
}

TEST(ParallelGzip, SmallInputsAreZlibsBytes) {
    for (std::size_t n : std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 100, 258, 259, 262, 1000}) {
        const Bytes t = text(n, 7);
        EXPECT_EQ(ours(t, 6, {}), zlib_gzip(t, 6)) << n << " bytes of text";
        const Bytes r = random_bytes(n, 8);
        EXPECT_EQ(ours(r, 6, {}), zlib_gzip(r, 6)) << n << " random bytes";
    }
}

TEST(ParallelGzip, WindowEdgesAreZlibsBytes) {
    // Around the first fill, the first slide and the end of zlib's window.
    for (std::size_t n : std::vector<std::size_t>{65535, 65536, 65537, 65536 + 262, 65274, 65275,
                                                  98304, 98304 + 300, 131072, 131072 + 5}) {
        const Bytes t = text(n, static_cast<unsigned>(n));
        EXPECT_EQ(ours(t, 6, {}), zlib_gzip(t, 6)) << n << " bytes";
        Bytes z(n, 0);
        EXPECT_EQ(ours(z, 6, {}), zlib_gzip(z, 6)) << n << " zeros";
    }
}

TEST(ParallelGzip, EveryLevelAndEverySplitGivesZlibsBytes) {
    const Bytes in = layer_like();
    for (int level = 4; level <= 9; ++level) {
        const Bytes want = zlib_gzip(in, level);
        EXPECT_EQ(ours(in, level, small_stretches()), want) << "level " << level;
        if (level == 6) {
            EXPECT_EQ(ours(in, level, {}), want) << "default stretches";
            EXPECT_EQ(ours(in, level, small_stretches(1)), want) << "one thread";
            EXPECT_EQ(ours(in, level, small_stretches(3), 1000), want) << "written in pieces";
            EXPECT_EQ(ours(in, level, small_stretches(2), 70001), want) << "written in pieces";
        }
    }
}

TEST(ParallelGzip, SeamsNotFoundAreParsedAgain) {
    // A long run of one pattern keeps two parses of it out of step: stretches that
    // begin inside it never meet the whole parse in a 4 KiB overlap.
    Bytes in = text(100000, 4);
    for (int i = 0; i < 40000; ++i) in.insert(in.end(), {'a', 'b', 'c', 'd', 'e', 'f', 'g'});
    const Bytes tail = text(100000, 5);
    in.insert(in.end(), tail.begin(), tail.end());
    std::size_t reparsed = 0;
    EXPECT_EQ(ours(in, 6, small_stretches(), 0, &reparsed), zlib_gzip(in, 6));
    EXPECT_GT(reparsed, 0u);
}

// B is A with bytes put in, taken out and changed.
Bytes edited(const Bytes& a) {
    Bytes b(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(a.size() * 3 / 10));
    const Bytes r = random_bytes(5000, 9);
    b.insert(b.end(), r.begin(), r.end());
    b.insert(b.end(), a.begin() + static_cast<std::ptrdiff_t>(a.size() * 3 / 10),
             a.begin() + static_cast<std::ptrdiff_t>(a.size() * 6 / 10));
    b.insert(b.end(), a.begin() + static_cast<std::ptrdiff_t>(a.size() * 6 / 10 + 3000), a.end());
    b[b.size() * 8 / 10] ^= 1;
    return b;
}

TEST(ParallelGzip, TakesAnEarlierParseWhereTheBytesAreTheSame) {
    Bytes a = layer_like();
    const Bytes t = text(2000000, 11);  // new to this process
    a.insert(a.end(), t.begin(), t.end());
    const Bytes b = edited(a);
    for (const DeflateOptions& options : {DeflateOptions{}, small_stretches(2)}) {
        std::size_t reparsed = 0;
        EXPECT_EQ(ours(a, 5, options), zlib_gzip(a, 5));
        std::uint64_t reused = 0;
        Bytes out;
        ParallelGzip gz(
            5,
            [&](const void* data, std::size_t size) {
                const auto* p = static_cast<const std::uint8_t*>(data);
                out.insert(out.end(), p, p + size);
            },
            options);
        gz.write(b.data(), b.size());
        gz.finish();
        reused = gz.reused();
        reparsed = gz.reparsed();
        EXPECT_EQ(out, zlib_gzip(b, 5));
        // Small stretches lose their first 4 KiB and each region its first 32 KiB.
        EXPECT_GT(reused, options.stretch < (1u << 20) ? b.size() / 3 : b.size() * 3 / 4)
            << "stretch " << options.stretch << ", " << reparsed << " seams parsed again";
    }
}

TEST(ParallelGzip, TakesNoParseOfAnotherLevelOrWhenToldNot) {
    const Bytes a = text(1500000, 12);
    const Bytes b = edited(a);
    EXPECT_EQ(ours(a, 8, {}), zlib_gzip(a, 8));
    auto reused = [&](int level, bool reuse) {
        DeflateOptions o;
        o.reuse = reuse;
        ParallelGzip gz(
            level, [](const void*, std::size_t) {}, o);
        gz.write(b.data(), b.size());
        gz.finish();
        return gz.reused();
    };
    EXPECT_EQ(reused(7, true), 0u);
    EXPECT_EQ(reused(8, false), 0u);
    EXPECT_GT(reused(8, true), b.size() / 2);
}

TEST(ParallelGzip, RefusesOtherLevelsAndStretches) {
    auto sink = [](const void*, std::size_t) {};
    EXPECT_THROW(ParallelGzip(3, sink), dmc::Error);
    EXPECT_THROW(ParallelGzip(10, sink), dmc::Error);
    DeflateOptions odd;
    odd.stretch = 100000;
    EXPECT_THROW(ParallelGzip(6, sink, odd), dmc::Error);
}

}  // namespace
