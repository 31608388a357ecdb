// What a build from source starts from: a Debian source package from the dist's
// signed Sources index (every file checked against the index and the .dsc, the
// .dsc's own signature against the uploaders' keyring), or a tarball whose
// SHA256 the template pins. Files are cached by their SHA256, like packages.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "apt/archive.hpp"
#include "plugin/hooks.hpp"

namespace dmc::source {

struct SourceFile {
    std::string name, sha256;
    std::uint64_t size = 0;
    std::filesystem::path path;  // in the cache, once fetched
};

struct Source {
    std::string name, version;      // a tarball's from its file name ("nginx_1.26.3.orig.tar.gz")
    std::string origin;             // the .dsc's or the tarball's URL
    std::string base_url;           // where its files are fetched from ("URL/")
    std::string build_depends;      // the .dsc's Build-Depends (Debian sources)
    std::vector<SourceFile> files;  // the .dsc first, or the tarball
    bool debian() const { return !files.empty() && files[0].name.ends_with(".dsc"); }
    std::string digest() const;  // over every file's name and SHA256
};

// One file list of a .dsc or a Sources stanza ("Checksums-Sha256": "sha size name"
// lines). Throws Error naming `what` on a malformed line.
std::vector<SourceFile> checksum_list(std::string_view field, const std::string& what);

// "nginx_1.26.3.orig.tar.gz" or "nginx-1.26.3.tar.gz" -> {"nginx", "1.26.3"};
// {fallback, "0"} when the name carries no version.
std::pair<std::string, std::string> tarball_identity(const std::string& file,
                                                     const std::string& fallback);

// The source the build names, not fetched yet: its entry in the dist's signed
// Sources index (at `version` when given, else the template's version, else the
// newest), or the template's pinned tarball.
Source locate(apt::Archive& archive, const plugin::BuildSpec& build,
              const std::string& version = {});

// Its files fetched into <cache>/sources (unless cached there) and checked: each
// against its SHA256, and a .dsc's list against the index; the .dsc's signature
// against `keyring` when one is given.
void fetch(apt::Archive& archive, Source& source, const std::filesystem::path& cache_dir,
           const std::filesystem::path& keyring);

// The source unpacked into `dir` (dpkg-source -x, Debian's patches applied; or the
// tarball's contents); returns the directory the build runs in.
std::filesystem::path unpack(const Source& source, const std::filesystem::path& dir);

}  // namespace dmc::source
