// Compresses layer tars, in order, with zlib and with dmc's gzip (image/deflate),
// alternating, and prints the medians: wall and CPU time, and whether the bytes are
// zlib's. dmc's runs go through the files in one process, so that a file after
// another with the same bytes takes the earlier one's parse, as a dmc run does.
//
//   gzip_bench [--runs N] [--level L] [--threads T] [--stretch KiB] FILE...
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "image/deflate.hpp"
#include "image/deflate_library.hpp"

namespace {

using Bytes = std::vector<unsigned char>;

struct Timing {
    double wall = 0, cpu = 0;
};

template <class F>
Timing timed(F&& f) {
    const auto wall = std::chrono::steady_clock::now();
    const std::clock_t cpu = std::clock();
    f();
    return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(),
            static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC};
}

Bytes zlib_gzip(const Bytes& in, int level) {
    z_stream z{};
    deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    gz_header header{};
    header.os = 255;
    deflateSetHeader(&z, &header);
    Bytes out(deflateBound(&z, in.size()));
    z.next_in = const_cast<unsigned char*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 3, level = 6;
    dmc::image::DeflateOptions options;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--runs" && i + 1 < argc)
            runs = std::atoi(argv[++i]);
        else if (a == "--level" && i + 1 < argc)
            level = std::atoi(argv[++i]);
        else if (a == "--threads" && i + 1 < argc)
            options.threads = static_cast<std::size_t>(std::atoi(argv[++i]));
        else if (a == "--stretch" && i + 1 < argc)
            options.stretch = static_cast<std::size_t>(std::atoi(argv[++i])) << 10;
        else
            files.push_back(a);
    }
    if (files.empty()) {
        std::fprintf(
            stderr,
            "usage: gzip_bench [--runs N] [--level L] [--threads T] [--stretch KiB] FILE...\n");
        return 2;
    }
    std::vector<Bytes> inputs;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::vector<Bytes> want(inputs.size());
    std::vector<std::vector<Timing>> z(inputs.size()), d(inputs.size());
    std::vector<std::uint64_t> reused(inputs.size());
    bool same = true;
    for (int r = 0; r < runs; ++r) {
        for (std::size_t i = 0; i < inputs.size(); ++i)
            z[i].push_back(timed([&] { want[i] = zlib_gzip(inputs[i], level); }));
        // As in a new process: no parse kept from the round before.
        dmc::image::deflate::forget_all();
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            Bytes out;
            d[i].push_back(timed([&] {
                dmc::image::ParallelGzip gz(
                    level,
                    [&](const void* p, std::size_t n) {
                        out.insert(out.end(), static_cast<const unsigned char*>(p),
                                   static_cast<const unsigned char*>(p) + n);
                    },
                    options);
                for (std::size_t at = 0; at < inputs[i].size(); at += 1 << 16)
                    gz.write(inputs[i].data() + at,
                             std::min<std::size_t>(1 << 16, inputs[i].size() - at));
                gz.finish();
                reused[i] = gz.reused();
            }));
            same = same && out == want[i];
        }
    }
    std::printf(
        "| file | MB | zlib wall, CPU | dmc wall, CPU | wall ratio | taken from an earlier file "
        "|\n");
    std::printf("| --- | --- | --- | --- | --- | --- |\n");
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        std::vector<double> zw, zc, dw, dc;
        for (const auto& t : z[i]) zw.push_back(t.wall), zc.push_back(t.cpu);
        for (const auto& t : d[i]) dw.push_back(t.wall), dc.push_back(t.cpu);
        std::printf("| %s | %.0f | %.2f s, %.2f s | %.2f s, %.2f s | %.2f | %.0f MB |\n",
                    files[i].c_str(), static_cast<double>(inputs[i].size()) / 1e6, median(zw),
                    median(zc), median(dw), median(dc), median(dw) / median(zw),
                    static_cast<double>(reused[i]) / 1e6);
    }
    std::printf("%s\n",
                same ? "every output is zlib's, byte for byte" : "OUTPUTS DIFFER FROM ZLIB'S");
    return same ? 0 : 1;
}
