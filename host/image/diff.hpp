// What changed between two images of one template: the packages (from the dpkg
// records in /var/lib/dpkg/status.d) and the files of each image's single layer,
// each added, removed or changed, with sizes. For review before a push (dmc -a diff).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dmc::image {

struct ListedFile {
    char type = 'f';  // f file, d directory, l symlink, h hard link, o other
    std::uint64_t size = 0;
    unsigned mode = 0;
    std::string sha256;  // of a file's content
    std::string target;  // of a symlink or hard link
    bool operator==(const ListedFile&) const = default;
};

// What one image holds.
struct Listing {
    std::map<std::string, ListedFile> files;      // by absolute path
    std::map<std::string, std::string> packages;  // name -> "VERSION (ARCH)"
    std::uint64_t bytes = 0;                      // of every file's content
};

// The listing of a layer (a tar, compressed or not). Throws Error when it is not one.
Listing list_layer(std::string_view layer);

struct Difference {
    char change = '~';  // + added, - removed, ~ changed
    std::string what;   // "package" or "file"
    std::string name;
    std::string before, after;  // versions, or sizes and kinds; empty when absent
};
std::vector<Difference> compare(const Listing& before, const Listing& after);

// "12.3 MB": sizes as people read them (SI units).
std::string human_size(std::uint64_t bytes);

}  // namespace dmc::image
