// Turns the files picked from the rootfs and a template's configuration into the
// layer of a micro image: the files with their recorded owners and modes, a
// minimal base (users, NSS, os-release, /tmp), and the dpkg metadata scanners read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "contents/features.hpp"
#include "image/layer.hpp"
#include "plugin/hooks.hpp"
#include "rootfs/manifest.hpp"

namespace dmc::contents {

struct AssemblyInput {
    std::filesystem::path root;
    const rootfs::Manifest* manifest = nullptr;
    std::vector<std::string> files;  // from image_files(), or whole packages with small
    const plugin::ConfigureResult* configure = nullptr;
    Features features;
    std::vector<std::string> allow_setid;  // globs: the files that keep setuid/setgid
    std::string triplet;                   // the arch's, for the loader's files
    std::int32_t ld_cache_flags = 0;       // (contents/loader.hpp)
};

// Who put a path into the image: a package (its file, unchanged), a template's
// configure hook, or dmc itself (the base of every image and its records).
struct Origin {
    enum class Kind { package, template_hook, dmc };
    Kind kind = Kind::dmc;
    std::string name;  // the package or the template; empty for dmc
};

// Who wrote a path that is no package's: "template nginx" or "dmc"; "" for a package.
std::string writer(const Origin& origin);

// The in-image file manifest: one JSON object per line, sorted by path, every path
// of the image (the manifest itself without a digest, as it cannot hold its own).
inline constexpr const char* file_manifest_path = "/var/lib/dmc/manifest";

struct Assembly {
    std::vector<image::LayerEntry> entries;  // sorted by path, parents included
    std::map<std::string, Origin> origins;   // every entry's path
    struct Content {
        std::string sha256;  // hex
        std::uint64_t size = 0;
    };
    std::map<std::string, Content> contents;  // every regular file's
    std::set<std::string> packages;           // packages with at least one file in the image
    std::vector<std::string> setid_dropped;   // files of the packages that lost setuid/setgid
};

Assembly assemble(const AssemblyInput& input);

// The text of file_manifest_path for the entries of an assembly (less the manifest
// itself, which it lists without digest).
std::string file_manifest(const Assembly& assembly);

// What update-ca-certificates makes of every certificate below
// /usr/share/ca-certificates, in sorted order: /etc/ssl/certs/ca-certificates.crt,
// their concatenation; /etc/ssl/certs/NAME.pem linking to each; and the links
// `openssl rehash` adds for lookups by subject (HASH.0 -> NAME.pem, HASH.1 for a
// second certificate of the same subject hash).
struct CaCertificates {
    std::string bundle;
    std::vector<std::pair<std::string, std::string>> links;  // image path, target
};
CaCertificates ca_certificates(const std::filesystem::path& root);

// The files of whole packages, less documentation, manual pages and locales.
std::vector<std::string> whole_package_files(const rootfs::Manifest& manifest);

// /etc/passwd and /etc/group: root, nobody and the template's users and groups.
std::string passwd_file(const std::vector<plugin::UserSpec>& users);
std::string group_file(const std::vector<plugin::GroupSpec>& groups,
                       const std::vector<plugin::UserSpec>& users);

}  // namespace dmc::contents
