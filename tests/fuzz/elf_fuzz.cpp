// Fuzz target for the ELF reader: parse_elf must turn any input into a value
// or a failure, without crashing, reading out of bounds or allocating wildly.
//
// Built with -DDMC_LIBFUZZER and -fsanitize=fuzzer, this is a libFuzzer
// target. Otherwise it has its own small main() that mutates seed files for a
// fixed number of runs with a fixed seed, so that CI can run it briefly with
// any compiler (and under the sanitizers when DMC_SANITIZE is on):
//
//   dmc_elf_fuzz [--runs N] [--seed S] SEED_FILE...
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "elf/elf_file.hpp"

namespace {

// Parses one input; whether it was accepted.
bool parse_one(std::string_view bytes) {
    const dmc::Result<dmc::ElfInfo> info = dmc::parse_elf(bytes);
    if (info.ok()) {
        // Read every string so that a bad one shows up under the sanitizers.
        const dmc::ElfInfo& elf = info.value();
        std::size_t total = elf.interpreter.size() + elf.machine_name.size();
        for (const auto* list : {&elf.needed, &elf.rpath, &elf.runpath})
            for (const std::string& s : *list) total += s.size();
        if (elf.soname) total += elf.soname->size();
        volatile std::size_t sink = total;
        (void)sink;
    }
    return info.ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    parse_one(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}

#ifndef DMC_LIBFUZZER

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

// Values that make offsets, sizes and counts interesting at the edges.
constexpr uint64_t kInterestingValues[] = {0,
                                           1,
                                           0x7f,
                                           0x80,
                                           0xff,
                                           0xfffe,
                                           0xffff,
                                           0x10000,
                                           0x7fffffff,
                                           0x80000000,
                                           0xffffffff,
                                           0x100000000ull,
                                           0x7fffffffffffffffull,
                                           0x8000000000000000ull,
                                           0xffffffffffffffffull};

class Mutator {
  public:
    explicit Mutator(uint64_t seed) : random_(seed) {}

    uint64_t below(uint64_t n) { return n == 0 ? 0 : random_() % n; }

    // An offset in `bytes`, half the time among the headers at the start.
    std::size_t offset(const std::string& bytes) {
        const std::size_t size = bytes.size();
        if (size == 0) return 0;
        return below(2) == 0 ? below(std::min<std::size_t>(size, 4096)) : below(size);
    }

    void mutate(std::string& bytes) {
        const uint64_t steps = 1 + below(6);
        for (uint64_t i = 0; i < steps && !bytes.empty(); ++i) {
            switch (below(7)) {
                case 0:  // flip a bit
                    bytes[offset(bytes)] ^= static_cast<char>(1u << below(8));
                    break;
                case 1:  // a random byte
                    bytes[offset(bytes)] = static_cast<char>(below(256));
                    break;
                case 2:
                case 3: {  // an edge value over an aligned field, either byte order
                    const unsigned width = 1u << (1 + below(3));  // 2, 4 or 8
                    const std::size_t at = offset(bytes) / width * width;
                    uint64_t value = kInterestingValues[below(std::size(kInterestingValues))];
                    if (below(4) == 0) value = bytes.size() - below(16);
                    const bool little = below(2) == 0;
                    for (unsigned b = 0; b < width && at + b < bytes.size(); ++b) {
                        const unsigned shift = 8 * (little ? b : width - 1 - b);
                        bytes[at + b] = static_cast<char>((value >> shift) & 0xff);
                    }
                    break;
                }
                case 4:  // truncate
                    bytes.resize(below(bytes.size() + 1));
                    break;
                case 5: {  // copy a block over another place
                    const std::size_t from = offset(bytes), to = offset(bytes);
                    const std::size_t length =
                        std::min<std::size_t>({below(64), bytes.size() - from, bytes.size() - to});
                    bytes.replace(to, length, bytes, from, length);
                    break;
                }
                default: {  // insert or erase a few bytes, shifting what follows
                    const std::size_t at = offset(bytes);
                    if (below(2) == 0)
                        bytes.insert(at, static_cast<std::size_t>(1 + below(8)),
                                     static_cast<char>(below(256)));
                    else
                        bytes.erase(at, static_cast<std::size_t>(1 + below(8)));
                    break;
                }
            }
        }
    }

  private:
    std::mt19937_64 random_;
};

int usage() {
    std::cerr << "usage: dmc_elf_fuzz [--runs N] [--seed S] SEED_FILE...\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t runs = 10000, seed = 1;
    std::vector<std::string> seeds;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "--runs" || arg == "--seed") && i + 1 < argc) {
            char* end = nullptr;
            const uint64_t value = std::strtoull(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0') return usage();
            (arg == "--runs" ? runs : seed) = value;
        } else if (!arg.empty() && arg[0] == '-') {
            return usage();
        } else {
            std::ifstream in(arg, std::ios::binary);
            if (!in) {
                std::cerr << "dmc_elf_fuzz: cannot read " << arg << "\n";
                return 2;
            }
            std::ostringstream content;
            content << in.rdbuf();
            seeds.push_back(content.str());
        }
    }
    if (seeds.empty()) return usage();

    uint64_t parsed = 0;
    for (const std::string& s : seeds) parsed += parse_one(s);
    Mutator mutator(seed);
    for (uint64_t i = 0; i < runs; ++i) {
        std::string input = seeds[mutator.below(seeds.size())];
        mutator.mutate(input);
        parsed += parse_one(input);
    }
    std::cout << "dmc_elf_fuzz: " << runs << " mutated inputs from " << seeds.size() << " seeds, "
              << parsed << " parsed, the rest rejected, no crash\n";
    return 0;
}

#endif  // DMC_LIBFUZZER
