// Writes the single filesystem layer of an image as a compressed tar blob whose
// bytes depend only on the LayerSpec (and the zlib/libzstd versions for the
// compressed bytes; the uncompressed tar, hence the diff_id, depends on nothing
// else).
//
// What the tar looks like:
//  - restricted pax (see tar_writer.hpp), numeric uid/gid only, every mtime
//    set to LayerSpec::mtime, no atime/ctime/xattrs;
//  - names relative without "./" ("usr/sbin/nginx", directories "usr/sbin/"),
//    as docker, umoci and Go's archive/tar write them; no entry for "/";
//  - entries sorted bytewise by path, so a directory precedes its children;
//  - parent directories that are not listed are added (0755, root:root);
//  - symlinks are written with mode 0777 (Linux ignores symlink modes, and a
//    fixed value keeps the bytes independent of how the caller filled it in);
//  - hard links stay links. A group of paths sharing one file is written as
//    a regular file at the bytewise-first path of the group and hard links to
//    it at the others, whichever path the spec gave the content to: a tar
//    link must come after its target, and the order is fixed by sorting.
//    The file's mode/uid/gid apply to the whole group (they share an inode).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "image/compression.hpp"

namespace dmc::image {

struct LayerEntry {
    enum class Type { file, dir, symlink, hardlink };

    // Absolute and normalized image path: "/usr/sbin/nginx". Not "/", no "."
    // or ".." or empty components, no trailing "/", no ".wh." name prefix
    // (whiteouts mean deletion to the runtimes), no NUL.
    std::string path;
    Type type = Type::file;
    std::uint32_t mode = 0644;  // permission bits only (07777), setuid/setgid/sticky included
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    // Files: the content is copied from `source` when it is not empty (any
    // regular file, followed through symlinks), else taken from `content`.
    std::filesystem::path source;
    std::string content;
    // Symlinks: the target, stored verbatim. Hard links: the image path of
    // another file or hard link entry of the same spec, e.g. "/usr/bin/perl".
    std::string link_target;
};

struct LayerSpec {
    // Every path at most once, except identical directory entries, which are
    // merged (packages commonly share directories). Any other duplicate is
    // an error rather than "last one wins": it would hide a conflict between
    // packages.
    std::vector<LayerEntry> entries;
    std::int64_t mtime = 0;  // seconds since the epoch, for every entry (SOURCE_DATE_EPOCH)
    Compression compression = Compression::gzip;
    int compression_level = 0;  // 0: default_gzip_level / default_zstd_level
    // Whether layers compressed after this one in this process may take its parse
    // where their bytes are the same (image/deflate); kept only for them.
    bool later_layers = true;
};

struct LayerInfo {
    std::filesystem::path path;  // the blob as written
    Compression compression = Compression::gzip;
    std::string digest;          // "sha256:<hex>" of the blob
    std::uint64_t size = 0;      // bytes of the blob
    std::string diff_id;         // "sha256:<hex>" of the uncompressed tar
    std::uint64_t tar_size = 0;  // bytes of the uncompressed tar

    std::string_view media_type() const;
};

// "application/vnd.oci.image.layer.v1.tar" with "+gzip" or "+zstd".
std::string_view layer_media_type(Compression compression);

// Writes the layer to `output` (through a temporary sibling renamed into place,
// so `output` is either the old file or the complete new one) and returns its
// digests. The content streams through: memory use does not grow with the
// layer. Throws dmc::Error on an invalid spec or an I/O failure.
LayerInfo write_layer(const LayerSpec& spec, const std::filesystem::path& output);

}  // namespace dmc::image
