// glibc's /etc/ld.so.cache, written for an image of any arch without running the
// target's ldconfig: the format 1.1 ("glibc-ld.so.cache1.1", little-endian, what
// ldconfig has written alone since glibc 2.32), its entries in the order the
// loader's binary search expects, each flagged for the arch as ldconfig flags it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dmc::elf {

struct LdCacheEntry {
    std::string name;        // what the loader looks up: a DT_NEEDED name (the SONAME)
    std::string path;        // where that is in the image: "/opt/blas/lib/libblas.so.3"
    std::int32_t flags = 0;  // the arch's (arch::ArchInfo::ld_cache_flags)
};

// glibc's _dl_cache_libcmp: runs of digits compare as numbers, a digit sorts after
// any other character, the rest byte by byte. Negative, zero or positive.
int ld_cache_compare(std::string_view a, std::string_view b);

// The cache's bytes: the entries sorted as ldconfig sorts them (by name, highest
// first), the same input always giving the same bytes.
std::string ld_cache_bytes(std::vector<LdCacheEntry> entries);

// The entries of a cache's bytes, in their order; throws Error naming `what` when
// they are not a format 1.1 cache.
std::vector<LdCacheEntry> read_ld_cache(std::string_view bytes, const std::string& what);

}  // namespace dmc::elf
