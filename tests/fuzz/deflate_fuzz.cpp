// Differential: dmc's parallel gzip against zlib. The input is grown into a
// stretch of a few hundred KiB (copies of it, each with one byte changed, so
// that the parse has both far matches and places where it changes), then
// compressed with small stretches so that it has many seams, and once more with
// bytes put in, so that the earlier parse is taken over; the bytes must be
// zlib's, at the level the first byte picks.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz.hpp"
#include "image/deflate.hpp"

namespace {

std::vector<std::uint8_t> zlib_gzip(const std::vector<std::uint8_t>& in, int level) {
    z_stream z{};
    dmc::fuzz::check(deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK,
                     "zlib init");
    gz_header header{};
    header.os = 255;
    deflateSetHeader(&z, &header);
    std::vector<std::uint8_t> out(deflateBound(&z, in.size()) + 64);
    z.next_in = const_cast<std::uint8_t*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    dmc::fuzz::check(deflate(&z, Z_FINISH) == Z_STREAM_END, "zlib deflate");
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::vector<std::uint8_t> ours(const std::vector<std::uint8_t>& in, int level) {
    dmc::image::DeflateOptions options;
    options.threads = 2;
    options.stretch = 64 << 10;
    options.overlap = 2 << 10;
    options.keep = 64 << 20;
    std::vector<std::uint8_t> got;
    dmc::image::ParallelGzip gzip(
        level,
        [&](const void* bytes, std::size_t n) {
            const auto* b = static_cast<const std::uint8_t*>(bytes);
            got.insert(got.end(), b, b + n);
        },
        options);
    // In pieces as the layer writer gives them.
    for (std::size_t i = 0; i < in.size(); i += 40000)
        gzip.write(in.data() + i, std::min<std::size_t>(40000, in.size() - i));
    gzip.finish();
    return got;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const int level = 4 + data[0] % 6;
    std::vector<std::uint8_t> in;
    for (std::size_t copy = 0; size > 1 && in.size() < (std::size_t{320} << 10); ++copy) {
        const std::size_t at = in.size();
        in.insert(in.end(), data + 1, data + size);
        in[at + copy % (size - 1)] ^= static_cast<std::uint8_t>(copy);
    }
    dmc::fuzz::check(ours(in, level) == zlib_gzip(in, level),
                     "the parallel gzip's bytes are not zlib's");
    // Again with bytes put in halfway: the second takes the first's parse.
    if (in.size() > 1000) {
        const std::vector<std::uint8_t> more(data, data + std::min<std::size_t>(size, 999));
        in.insert(in.begin() + static_cast<std::ptrdiff_t>(in.size() / 2), more.begin(),
                  more.end());
    }
    dmc::fuzz::check(ours(in, level) == zlib_gzip(in, level),
                     "the parallel gzip's bytes are not zlib's after an earlier parse");
    return 0;
}
