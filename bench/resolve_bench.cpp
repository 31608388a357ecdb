// Loads Packages indexes and resolves packages the way `dmc` does, printing how long
// each step took and the peak memory. Not part of the tests: run it by hand.
//
//   resolve_bench --arch amd64 [--foreign arm64] [--recommends] [--repeat N]
//                 PACKAGES_FILE... -- PKG...
//
// Each PACKAGES_FILE is an uncompressed Packages index; "path=arch" names the index's
// architecture (default: --arch).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "apt/resolver.hpp"
#include "util/error.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Read in one go: a stream would hold the text twice and distort the peak memory.
std::string read_whole(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw dmc::Error("cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    ::fstat(fd, &st);
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::read(fd, text.data() + done, text.size() - done);
        if (n <= 0) {
            ::close(fd);
            throw dmc::Error("cannot read " + path);
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return text;
}

long peak_rss_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024;  // KiB on Linux
}

// What the process holds now, as opposed to its peak.
long current_rss_mib() {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024) / 1024;
}

int usage() {
    std::fprintf(stderr,
                 "usage: resolve_bench --arch ARCH [--foreign ARCH]... [--recommends] "
                 "[--repeat N] PACKAGES_FILE[=ARCH]... -- PKG...\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    dmc::apt::ResolveRequest request;
    std::vector<std::string> files;
    int repeat = 1;
    bool packages_part = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (packages_part) {
            request.packages.push_back(arg);
        } else if (arg == "--") {
            packages_part = true;
        } else if (arg == "--arch" && i + 1 < argc) {
            request.native_arch = argv[++i];
        } else if (arg == "--foreign" && i + 1 < argc) {
            request.foreign_archs.push_back(argv[++i]);
        } else if (arg == "--recommends") {
            request.with_recommends = true;
        } else if (arg == "--repeat" && i + 1 < argc) {
            repeat = std::max(1, std::atoi(argv[++i]));
        } else if (!arg.starts_with("--")) {
            files.push_back(arg);
        } else {
            return usage();
        }
    }
    if (request.native_arch.empty() || files.empty() || request.packages.empty()) return usage();

    try {
        dmc::apt::PackageIndex index;
        double parse_seconds = 0;
        for (const std::string& spec : files) {
            std::string path = spec;
            std::string arch = request.native_arch;
            if (auto eq = spec.rfind('='); eq != std::string::npos) {
                path = spec.substr(0, eq);
                arch = spec.substr(eq + 1);
            }
            std::string text = read_whole(path);
            auto start = Clock::now();
            index.add(text, "http://mirror.invalid/debian", "main", arch);
            double took = seconds_since(start);
            parse_seconds += took;
            std::printf("parse %-40s %8.1f MB  %6.3f s\n", path.c_str(),
                        static_cast<double>(text.size()) / 1e6, took);
        }
        std::printf("index: %zu packages, %.1f MB of fields kept, parse total %.3f s\n",
                    index.size(), static_cast<double>(index.arena_bytes()) / 1e6, parse_seconds);
        std::printf("RSS after loading: %ld MiB (peak %ld MiB, with one index text)\n",
                    current_rss_mib(), peak_rss_mib());

        dmc::apt::Resolution result;
        double best = 1e9;
        for (int i = 0; i < repeat; ++i) {
            auto start = Clock::now();
            result = dmc::apt::resolve(index, request);
            best = std::min(best, seconds_since(start));
        }
        std::printf("resolve: %zu packages in %.4f s (best of %d)\n", result.packages.size(), best,
                    repeat);
        for (const std::string& problem : result.problems)
            std::printf("problem: %s\n", problem.c_str());
        std::printf("RSS after resolving: %ld MiB (peak %ld MiB)\n", current_rss_mib(),
                    peak_rss_mib());
    } catch (const dmc::Error& e) {
        std::fprintf(stderr, "resolve_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
