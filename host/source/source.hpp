// What a build from source starts from: a Debian source package from the dist's
// signed Sources index (every file checked against the index and the .dsc, the
// .dsc's own signature where a keyring for it is at hand), or a tarball whose
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
    std::string name, version;
    std::string origin;             // the .dsc's or the tarball's URL
    std::string build_depends;      // the .dsc's Build-Depends (Debian sources)
    std::vector<SourceFile> files;  // the .dsc first, or the tarball
    bool debian() const { return !files.empty() && files[0].name.ends_with(".dsc"); }
    std::string digest() const;  // over every file's name and SHA256
};

// One file list of a .dsc or a Sources stanza ("Checksums-Sha256": "sha size name"
// lines). Throws Error naming `what` on a malformed line.
std::vector<SourceFile> checksum_list(std::string_view field, const std::string& what);

// The source the build names, fetched into <cache>/sources and verified.
Source fetch(apt::Archive& archive, const plugin::BuildSpec& build,
             const std::filesystem::path& cache_dir);

// The source unpacked into `dir` (dpkg-source -x, Debian's patches applied; or the
// tarball's contents); returns the directory the build runs in.
std::filesystem::path unpack(const Source& source, const std::filesystem::path& dir);

}  // namespace dmc::source
