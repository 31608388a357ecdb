// The layout (glibc's elf/dl-cache.h): a 48-byte header (the magic and version,
// the entry count, the string table's length, the endianness flags, the extension
// offset: none here), then 24-byte entries (flags, the name's and the path's
// offsets from the start of the file, an unused OS version, hwcap 0), then the
// NUL-terminated strings.
#include "elf/ld_cache.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "util/error.hpp"

namespace dmc::elf {

namespace {

constexpr std::string_view kMagic = "glibc-ld.so.cache1.1";
constexpr std::size_t kHeaderSize = 48, kEntrySize = 24;
constexpr std::uint8_t kLittleEndian = 2;  // cache_file_new_flags_endian_little

bool digit(char c) { return c >= '0' && c <= '9'; }

void put32(std::string& out, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t get32(std::string_view in, std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
    return v;
}

}  // namespace

int ld_cache_compare(std::string_view a, std::string_view b) {
    std::size_t i = 0, j = 0;
    while (i < a.size()) {
        if (digit(a[i])) {
            if (j >= b.size() || !digit(b[j])) return 1;
            unsigned long long x = 0, y = 0;
            while (i < a.size() && digit(a[i])) x = x * 10 + static_cast<unsigned>(a[i++] - '0');
            while (j < b.size() && digit(b[j])) y = y * 10 + static_cast<unsigned>(b[j++] - '0');
            if (x != y) return x < y ? -1 : 1;
        } else if (j < b.size() && digit(b[j])) {
            return -1;
        } else if (j >= b.size()) {
            return 1;
        } else if (a[i] != b[j]) {
            return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
        } else {
            ++i;
            ++j;
        }
    }
    return j < b.size() ? -1 : 0;
}

std::string ld_cache_bytes(std::vector<LdCacheEntry> entries) {
    std::stable_sort(entries.begin(), entries.end(), [](const auto& x, const auto& y) {
        const int c = ld_cache_compare(x.name, y.name);
        return c != 0 ? c > 0 : x.path < y.path;
    });
    // Each string once, after the entries.
    std::map<std::string, std::uint32_t> offsets;
    std::string strings;
    const std::size_t base = kHeaderSize + kEntrySize * entries.size();
    auto offset = [&](const std::string& s) {
        auto [it, added] = offsets.try_emplace(s, 0);
        if (added) {
            it->second = static_cast<std::uint32_t>(base + strings.size());
            strings += s;
            strings += '\0';
        }
        return it->second;
    };
    std::string out(base, '\0');
    out.replace(0, kMagic.size(), kMagic);
    put32(out, 20, static_cast<std::uint32_t>(entries.size()));
    out[28] = static_cast<char>(kLittleEndian);
    for (std::size_t n = 0; n < entries.size(); ++n) {
        const std::size_t at = kHeaderSize + kEntrySize * n;
        put32(out, at, static_cast<std::uint32_t>(entries[n].flags));
        put32(out, at + 4, offset(entries[n].name));
        put32(out, at + 8, offset(entries[n].path));
    }
    put32(out, 24, static_cast<std::uint32_t>(strings.size()));
    return out + strings;
}

std::vector<LdCacheEntry> read_ld_cache(std::string_view bytes, const std::string& what) {
    if (bytes.size() < kHeaderSize || bytes.substr(0, kMagic.size()) != kMagic)
        throw Error(what + " is not a glibc ld.so.cache of format 1.1");
    if ((static_cast<unsigned char>(bytes[28]) & 3) == 3)
        throw Error(what + " is a big-endian ld.so.cache, which dmc does not read");
    const std::uint32_t count = get32(bytes, 20);
    if (count > (bytes.size() - kHeaderSize) / kEntrySize)
        throw Error(what + ": its entry count runs past its end");
    auto string_at = [&](std::uint32_t off) {
        if (off >= bytes.size()) throw Error(what + ": a string offset runs past its end");
        const std::size_t end = bytes.find('\0', off);
        if (end == std::string_view::npos) throw Error(what + ": a string is not terminated");
        return std::string(bytes.substr(off, end - off));
    };
    std::vector<LdCacheEntry> out;
    for (std::uint32_t n = 0; n < count; ++n) {
        const std::size_t at = kHeaderSize + kEntrySize * n;
        out.push_back({string_at(get32(bytes, at + 4)), string_at(get32(bytes, at + 8)),
                       static_cast<std::int32_t>(get32(bytes, at))});
    }
    return out;
}

}  // namespace dmc::elf
