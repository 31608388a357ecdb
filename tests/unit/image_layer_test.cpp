#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <clocale>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "image/compression.hpp"
#include "image/layer.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;
using dmc::image::Compression;
using dmc::image::LayerEntry;
using dmc::image::LayerInfo;
using dmc::image::LayerSpec;

namespace {

constexpr std::int64_t epoch = 1700000000;

struct ReadEntry {
    std::string name;
    unsigned type = 0;  // AE_IF*
    unsigned mode = 0;  // permission bits
    std::int64_t uid = -1;
    std::int64_t gid = -1;
    std::string uname;
    std::string gname;
    std::int64_t mtime = -1;
    bool atime_set = false;
    bool ctime_set = false;
    bool has_xattrs = false;
    std::string symlink;
    std::string hardlink;
    std::string content;
};

// Reads any tar (compressed or not) back with libarchive.
std::vector<ReadEntry> read_tar(const fs::path& path) {
    archive* reader = archive_read_new();
    archive_read_support_filter_all(reader);
    archive_read_support_format_tar(reader);
    if (archive_read_open_filename(reader, path.c_str(), 65536) != ARCHIVE_OK) {
        std::string why = archive_error_string(reader);
        archive_read_free(reader);
        throw std::runtime_error("cannot open " + path.string() + ": " + why);
    }
    std::vector<ReadEntry> entries;
    archive_entry* entry = nullptr;
    int status = ARCHIVE_OK;
    // ARCHIVE_WARN: a name that does not convert to the test's locale.
    while ((status = archive_read_next_header(reader, &entry)) == ARCHIVE_OK ||
           status == ARCHIVE_WARN) {
        ReadEntry read;
        read.name = archive_entry_pathname(entry);
        read.type = archive_entry_filetype(entry);
        read.mode = archive_entry_perm(entry);
        read.uid = archive_entry_uid(entry);
        read.gid = archive_entry_gid(entry);
        read.uname = archive_entry_uname(entry) ? archive_entry_uname(entry) : "";
        read.gname = archive_entry_gname(entry) ? archive_entry_gname(entry) : "";
        read.mtime = archive_entry_mtime(entry);
        read.atime_set = archive_entry_atime_is_set(entry);
        read.ctime_set = archive_entry_ctime_is_set(entry);
        read.has_xattrs = archive_entry_xattr_count(entry) > 0;
        if (archive_entry_symlink(entry)) read.symlink = archive_entry_symlink(entry);
        if (archive_entry_hardlink(entry)) read.hardlink = archive_entry_hardlink(entry);
        char buffer[8192];
        la_ssize_t got = 0;
        while ((got = archive_read_data(reader, buffer, sizeof buffer)) > 0)
            read.content.append(buffer, static_cast<std::size_t>(got));
        entries.push_back(std::move(read));
    }
    const bool clean_end = status == ARCHIVE_EOF;
    archive_read_free(reader);
    if (!clean_end) throw std::runtime_error("corrupt tar " + path.string());
    return entries;
}

std::string uncompressed(const LayerInfo& layer) {
    std::string tar;
    dmc::image::decompress_file(layer.path, layer.compression,
                                [&](const void* data, std::size_t size) {
                                    tar.append(static_cast<const char*>(data), size);
                                });
    return tar;
}

void write_text(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

// A small nginx-like tree on disk plus inline entries, given out of order.
LayerSpec sample_spec(const fs::path& sources) {
    write_text(sources / "nginx", "#!/bin/sh\necho nginx\n");
    write_text(sources / "libfoo.so.1", std::string(100000, 'x'));
    LayerSpec spec;
    spec.mtime = epoch;
    spec.entries = {
        {"/usr/sbin/nginx", LayerEntry::Type::file, 0755, 0, 0, sources / "nginx", "", ""},
        {"/var/log/nginx", LayerEntry::Type::dir, 0750, 33, 4, {}, "", ""},
        {"/etc/nginx/nginx.conf",
         LayerEntry::Type::file,
         0644,
         0,
         0,
         {},
         "worker_processes 1;\n",
         ""},
        {"/usr/lib/libfoo.so", LayerEntry::Type::symlink, 0644, 0, 0, {}, "", "libfoo.so.1"},
        {"/usr/lib/libfoo.so.1", LayerEntry::Type::file, 0644, 0, 0, sources / "libfoo.so.1", "",
         ""},
        {"/usr/bin/su", LayerEntry::Type::file, 04755, 0, 0, {}, "su", ""},
        {"/tmp", LayerEntry::Type::dir, 01777, 0, 0, {}, "", ""},
        {"/usr/lib/tool-link", LayerEntry::Type::hardlink, 0, 0, 0, {}, "", "/usr/bin/su"},
    };
    return spec;
}

std::vector<std::string> names_of(const std::vector<ReadEntry>& entries) {
    std::vector<std::string> names;
    for (const ReadEntry& entry : entries) names.push_back(entry.name);
    return names;
}

const ReadEntry& find_entry(const std::vector<ReadEntry>& entries, const std::string& name) {
    for (const ReadEntry& entry : entries)
        if (entry.name == name) return entry;
    throw std::runtime_error("no entry " + name);
}

std::size_t files_in(const fs::path& directory) {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(directory)) ++count;
    return count;
}

}  // namespace

TEST(ImageLayer, EntriesAreSortedWithParentsAndFixedMetadata) {
    dmc::TempDir temp("dmc-layer");
    const LayerInfo layer = write_layer(sample_spec(temp.path() / "src"), temp.path() / "layer");
    const auto entries = read_tar(layer.path);

    EXPECT_EQ(names_of(entries), (std::vector<std::string>{
                                     "etc/", "etc/nginx/", "etc/nginx/nginx.conf", "tmp/", "usr/",
                                     "usr/bin/", "usr/bin/su", "usr/lib/", "usr/lib/libfoo.so",
                                     "usr/lib/libfoo.so.1", "usr/lib/tool-link", "usr/sbin/",
                                     "usr/sbin/nginx", "var/", "var/log/", "var/log/nginx/"}));
    for (const ReadEntry& entry : entries) {
        SCOPED_TRACE(entry.name);
        EXPECT_EQ(entry.mtime, epoch);
        EXPECT_EQ(entry.uname, "");
        EXPECT_EQ(entry.gname, "");
        EXPECT_FALSE(entry.atime_set);
        EXPECT_FALSE(entry.ctime_set);
        EXPECT_FALSE(entry.has_xattrs);
    }
    // Parents that were not listed.
    for (const char* name : {"etc/", "etc/nginx/", "usr/", "usr/bin/", "var/", "var/log/"}) {
        const ReadEntry& dir = find_entry(entries, name);
        EXPECT_EQ(dir.type, AE_IFDIR) << name;
        EXPECT_EQ(dir.mode, 0755u) << name;
        EXPECT_EQ(dir.uid, 0) << name;
        EXPECT_EQ(dir.gid, 0) << name;
    }
    const ReadEntry& log = find_entry(entries, "var/log/nginx/");
    EXPECT_EQ(log.type, AE_IFDIR);
    EXPECT_EQ(log.mode, 0750u);
    EXPECT_EQ(log.uid, 33);
    EXPECT_EQ(log.gid, 4);
    EXPECT_EQ(find_entry(entries, "tmp/").mode, 01777u);

    const ReadEntry& su = find_entry(entries, "usr/bin/su");
    EXPECT_EQ(su.type, AE_IFREG);
    EXPECT_EQ(su.mode, 04755u);
    EXPECT_EQ(su.content, "su");
    const ReadEntry& nginx = find_entry(entries, "usr/sbin/nginx");
    EXPECT_EQ(nginx.mode, 0755u);
    EXPECT_EQ(nginx.content, "#!/bin/sh\necho nginx\n");
    EXPECT_EQ(find_entry(entries, "etc/nginx/nginx.conf").content, "worker_processes 1;\n");
    EXPECT_EQ(find_entry(entries, "usr/lib/libfoo.so.1").content, std::string(100000, 'x'));

    const ReadEntry& symlink = find_entry(entries, "usr/lib/libfoo.so");
    EXPECT_EQ(symlink.type, AE_IFLNK);
    EXPECT_EQ(symlink.symlink, "libfoo.so.1");
    EXPECT_EQ(symlink.mode, 0777u);

    const ReadEntry& link = find_entry(entries, "usr/lib/tool-link");
    EXPECT_EQ(link.hardlink, "usr/bin/su");
    EXPECT_EQ(link.content, "");
}

TEST(ImageLayer, DigestsAndSizesDescribeTheBlobAndTheTar) {
    dmc::TempDir temp("dmc-layer");
    const LayerInfo layer = write_layer(sample_spec(temp.path() / "src"), temp.path() / "layer");
    EXPECT_EQ(layer.path, temp.path() / "layer");
    EXPECT_EQ(layer.digest, "sha256:" + dmc::sha256_file(layer.path));
    EXPECT_EQ(layer.size, fs::file_size(layer.path));
    const std::string tar = uncompressed(layer);
    EXPECT_EQ(layer.diff_id, "sha256:" + dmc::sha256_hex(tar));
    EXPECT_EQ(layer.tar_size, tar.size());
    EXPECT_EQ(layer.media_type(), "application/vnd.oci.image.layer.v1.tar+gzip");
    // Ends with the two zero blocks and is not padded to a 10 KiB record.
    ASSERT_EQ(tar.size() % 512, 0u);
    EXPECT_EQ(tar.substr(tar.size() - 1024), std::string(1024, '\0'));
    EXPECT_NE(tar.substr(tar.size() - 1536, 512), std::string(512, '\0'));
    // Only the final file is left in the directory: no temporary files.
    EXPECT_EQ(files_in(temp.path()), 2u);  // src/ and layer
}

TEST(ImageLayer, TarHeadersCarryNoNamesOnlyNumericIds) {
    dmc::TempDir temp("dmc-layer");
    LayerSpec spec;
    spec.mtime = epoch;
    spec.entries = {{"/srv/data", LayerEntry::Type::file, 0640, 1000, 1000, {}, "abc", ""}};
    spec.compression = Compression::none;
    const LayerInfo layer = write_layer(spec, temp.path() / "layer.tar");
    const std::string tar = dmc::read_file(layer.path);
    // Second header: srv/data. ustar layout: uid at 108, gid at 116, mtime at
    // 136, magic at 257, uname at 265, gname at 297.
    const std::string header = tar.substr(512, 512);
    EXPECT_EQ(header.substr(0, 9), "srv/data" + std::string(1, '\0'));
    EXPECT_EQ(header.substr(257, 8), std::string("ustar\0"
                                                 "00",
                                                 8));
    EXPECT_EQ(header.substr(108, 6), "001750");
    EXPECT_EQ(header.substr(116, 6), "001750");
    EXPECT_EQ(header.substr(136, 11), "14524770400");  // 1700000000 in octal
    EXPECT_EQ(header.substr(265, 64), std::string(64, '\0'));
    // Uncompressed: the blob is the tar.
    EXPECT_EQ(layer.digest, layer.diff_id);
    EXPECT_EQ(layer.size, layer.tar_size);
    EXPECT_EQ(layer.media_type(), "application/vnd.oci.image.layer.v1.tar");
}

TEST(ImageLayer, SameSpecGivesSameBytesWhereverTheSourcesAre) {
    dmc::TempDir first("dmc-layer-a");
    dmc::TempDir second("dmc-layer-other-name");
    for (Compression compression : {Compression::gzip, Compression::zstd, Compression::none}) {
        SCOPED_TRACE(std::string(dmc::image::compression_name(compression)));
        LayerSpec spec_a = sample_spec(first.path() / "sources");
        LayerSpec spec_b = sample_spec(second.path() / "elsewhere" / "deeper");
        spec_a.compression = spec_b.compression = compression;
        // Different on-disk timestamps and permissions of the sources must not matter.
        fs::last_write_time(second.path() / "elsewhere" / "deeper" / "nginx",
                            fs::file_time_type::clock::now() - std::chrono::hours(48));
        fs::permissions(second.path() / "elsewhere" / "deeper" / "nginx", fs::perms::owner_all);
        const LayerInfo a = write_layer(spec_a, first.path() / "a.blob");
        const LayerInfo b = write_layer(spec_b, second.path() / "b.blob");
        const LayerInfo again = write_layer(spec_a, first.path() / "a.blob");
        EXPECT_EQ(a.digest, b.digest);
        EXPECT_EQ(a.diff_id, b.diff_id);
        EXPECT_EQ(a.size, b.size);
        EXPECT_EQ(a.digest, again.digest);
        EXPECT_EQ(dmc::read_file(a.path), dmc::read_file(b.path));
    }
}

TEST(ImageLayer, EntryOrderInTheSpecDoesNotMatter) {
    dmc::TempDir temp("dmc-layer");
    LayerSpec spec = sample_spec(temp.path() / "src");
    const LayerInfo forward = write_layer(spec, temp.path() / "forward");
    std::reverse(spec.entries.begin(), spec.entries.end());
    const LayerInfo backward = write_layer(spec, temp.path() / "backward");
    EXPECT_EQ(forward.digest, backward.digest);
}

TEST(ImageLayer, MtimeChangesTheDigest) {
    dmc::TempDir temp("dmc-layer");
    LayerSpec spec = sample_spec(temp.path() / "src");
    const LayerInfo first = write_layer(spec, temp.path() / "first");
    spec.mtime += 1;
    const LayerInfo second = write_layer(spec, temp.path() / "second");
    EXPECT_NE(first.diff_id, second.diff_id);
    for (const ReadEntry& entry : read_tar(second.path)) EXPECT_EQ(entry.mtime, epoch + 1);
}

TEST(ImageLayer, GzipHeaderIsFixed) {
    dmc::TempDir temp("dmc-layer");
    const LayerInfo layer = write_layer(sample_spec(temp.path() / "src"), temp.path() / "layer");
    const std::string blob = dmc::read_file(layer.path);
    ASSERT_GE(blob.size(), 10u);
    // magic, deflate, no flags (no name/comment/extra/hcrc), mtime 0, xfl 0
    // (level 6), OS 255.
    const std::string expected("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
    EXPECT_EQ(blob.substr(0, 10), expected);
    // gzip(1) agrees the stream is valid.
    EXPECT_EQ(std::system(("gzip -t " + layer.path.string()).c_str()), 0);
}

TEST(ImageLayer, ZstdLayerIsAValidFrame) {
    dmc::TempDir temp("dmc-layer");
    LayerSpec spec = sample_spec(temp.path() / "src");
    spec.compression = Compression::zstd;
    const LayerInfo layer = write_layer(spec, temp.path() / "layer.zst");
    const std::string blob = dmc::read_file(layer.path);
    EXPECT_EQ(blob.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));
    EXPECT_EQ(layer.media_type(), "application/vnd.oci.image.layer.v1.tar+zstd");
    EXPECT_EQ(layer.diff_id, "sha256:" + dmc::sha256_hex(uncompressed(layer)));
    EXPECT_EQ(read_tar(layer.path).size(), 16u);
    if (std::system("command -v zstd >/dev/null 2>&1") == 0) {
        EXPECT_EQ(std::system(("zstd -q -t " + layer.path.string()).c_str()), 0);
    }

    spec.compression = Compression::gzip;
    const LayerInfo gzip = write_layer(spec, temp.path() / "layer.gz");
    EXPECT_EQ(gzip.diff_id, layer.diff_id);  // same tar, other compression
    EXPECT_NE(gzip.digest, layer.digest);
}

TEST(ImageLayer, CompressionLevelIsHonouredAndChecked) {
    dmc::TempDir temp("dmc-layer");
    LayerSpec spec = sample_spec(temp.path() / "src");
    spec.compression_level = 1;
    const LayerInfo fast = write_layer(spec, temp.path() / "fast");
    spec.compression_level = dmc::image::default_gzip_level;
    const LayerInfo normal = write_layer(spec, temp.path() / "normal");
    spec.compression_level = 0;
    const LayerInfo by_default = write_layer(spec, temp.path() / "default");
    EXPECT_EQ(fast.diff_id, normal.diff_id);
    EXPECT_NE(fast.digest, normal.digest);
    EXPECT_EQ(normal.digest, by_default.digest);
    spec.compression_level = 10;
    EXPECT_THROW(write_layer(spec, temp.path() / "bad"), dmc::Error);
}

TEST(ImageLayer, HardLinkGroupStartsWithItsFirstPath) {
    dmc::TempDir temp("dmc-layer");
    // The content is given to the path that sorts last: the writer must
    // still put the file first and the links after it.
    LayerSpec spec;
    spec.mtime = epoch;
    spec.entries = {
        {"/usr/bin/perl5.36.0", LayerEntry::Type::file, 0755, 0, 0, {}, "perl binary", ""},
        {"/usr/bin/perl", LayerEntry::Type::hardlink, 0600, 5, 5, {}, "", "/usr/bin/perl5.36.0"},
        {"/usr/bin/aperl", LayerEntry::Type::hardlink, 0, 0, 0, {}, "", "/usr/bin/perl"},
    };
    const LayerInfo layer = write_layer(spec, temp.path() / "layer");
    const auto entries = read_tar(layer.path);
    ASSERT_EQ(names_of(entries), (std::vector<std::string>{"usr/", "usr/bin/", "usr/bin/aperl",
                                                           "usr/bin/perl", "usr/bin/perl5.36.0"}));
    EXPECT_EQ(entries[2].type, AE_IFREG);
    EXPECT_EQ(entries[2].hardlink, "");
    EXPECT_EQ(entries[2].content, "perl binary");
    EXPECT_EQ(entries[2].mode, 0755u);
    EXPECT_EQ(entries[3].hardlink, "usr/bin/aperl");
    EXPECT_EQ(entries[4].hardlink, "usr/bin/aperl");

    // GNU tar extracts them as one inode.
    const fs::path out = temp.path() / "out";
    fs::create_directories(out);
    ASSERT_EQ(std::system(("tar -xzf " + layer.path.string() + " -C " + out.string()).c_str()), 0);
    struct stat first {};
    struct stat second {};
    ASSERT_EQ(::stat((out / "usr/bin/perl5.36.0").c_str(), &first), 0);
    ASSERT_EQ(::stat((out / "usr/bin/aperl").c_str(), &second), 0);
    EXPECT_EQ(first.st_ino, second.st_ino);
    EXPECT_EQ(first.st_nlink, 3u);
    EXPECT_EQ(dmc::read_file(out / "usr/bin/perl"), "perl binary");
}

TEST(ImageLayer, LongAndNonAsciiNamesRoundTripWhateverTheLocale) {
    dmc::TempDir temp("dmc-layer");
    const std::string long_dir = "/usr/share/doc/" + std::string(120, 'd');
    const std::string very_long = long_dir + "/" + std::string(150, 'f');
    LayerSpec spec;
    spec.mtime = epoch;
    spec.entries = {
        {very_long, LayerEntry::Type::file, 0644, 0, 0, {}, "long", ""},
        {"/usr/share/caf\xc3\xa9", LayerEntry::Type::file, 0644, 0, 0, {}, "utf8", ""},
        {"/usr/share/latin1-\xe9", LayerEntry::Type::file, 0644, 0, 0, {}, "latin1", ""},
        {"/usr/share/link", LayerEntry::Type::symlink, 0, 0, 0, {}, "", std::string(200, 't')},
        {"/srv/big-ids", LayerEntry::Type::file, 0644, 400000, 300000, {}, "", ""},
    };
    const std::string previous = std::setlocale(LC_ALL, nullptr);
    std::setlocale(LC_ALL, "C");
    const LayerInfo in_c = write_layer(spec, temp.path() / "c");
    std::setlocale(LC_ALL, "C.UTF-8");
    const LayerInfo in_utf8 = write_layer(spec, temp.path() / "utf8");
    std::setlocale(LC_ALL, previous.c_str());
    EXPECT_EQ(in_c.digest, in_utf8.digest);

    const auto entries = read_tar(in_c.path);
    EXPECT_EQ(find_entry(entries, very_long.substr(1)).content, "long");
    EXPECT_EQ(find_entry(entries, long_dir.substr(1) + "/").type, AE_IFDIR);
    EXPECT_EQ(find_entry(entries, "usr/share/caf\xc3\xa9").content, "utf8");
    EXPECT_EQ(find_entry(entries, "usr/share/latin1-\xe9").content, "latin1");
    EXPECT_EQ(find_entry(entries, "usr/share/link").symlink, std::string(200, 't'));
    const ReadEntry& big = find_entry(entries, "srv/big-ids");
    EXPECT_EQ(big.uid, 400000);
    EXPECT_EQ(big.gid, 300000);
}

TEST(ImageLayer, LargeFileStreamsThrough) {
    dmc::TempDir temp("dmc-layer");
    std::string content;
    content.reserve(3 << 20);
    std::uint32_t state = 12345;
    for (std::size_t i = 0; i < (3u << 20); ++i) {
        state = state * 1103515245u + 12345u;
        content.push_back(static_cast<char>(state >> 24));
    }
    write_text(temp.path() / "big", content);
    LayerSpec spec;
    spec.entries = {{"/opt/big", LayerEntry::Type::file, 0644, 0, 0, temp.path() / "big", "", ""}};
    for (Compression compression : {Compression::gzip, Compression::zstd}) {
        spec.compression = compression;
        const LayerInfo layer = write_layer(spec, temp.path() / "layer");
        EXPECT_EQ(find_entry(read_tar(layer.path), "opt/big").content, content);
    }
}

TEST(ImageLayer, EmptyLayerIsValid) {
    dmc::TempDir temp("dmc-layer");
    const LayerInfo layer = write_layer(LayerSpec{}, temp.path() / "empty");
    EXPECT_TRUE(read_tar(layer.path).empty());
    EXPECT_EQ(layer.tar_size, 1024u);
}

TEST(ImageLayer, IdenticalDirectoriesMergeOtherDuplicatesFail) {
    dmc::TempDir temp("dmc-layer");
    LayerSpec spec;
    spec.entries = {{"/usr/share", LayerEntry::Type::dir, 0755, 0, 0, {}, "", ""},
                    {"/usr/share", LayerEntry::Type::dir, 0755, 0, 0, {}, "", ""}};
    EXPECT_EQ(read_tar(write_layer(spec, temp.path() / "ok").path).size(), 2u);

    spec.entries[1].mode = 0700;
    EXPECT_THROW(write_layer(spec, temp.path() / "bad"), dmc::Error);
    spec.entries = {{"/etc/a", LayerEntry::Type::file, 0644, 0, 0, {}, "1", ""},
                    {"/etc/a", LayerEntry::Type::file, 0644, 0, 0, {}, "1", ""}};
    EXPECT_THROW(write_layer(spec, temp.path() / "bad"), dmc::Error);
}

TEST(ImageLayer, InvalidSpecsAreRefusedAndLeaveNothingBehind) {
    dmc::TempDir temp("dmc-layer");
    auto refused = [&](std::vector<LayerEntry> entries, std::int64_t mtime = 0) {
        LayerSpec spec;
        spec.entries = std::move(entries);
        spec.mtime = mtime;
        try {
            write_layer(spec, temp.path() / "out" / "layer");
        } catch (const dmc::Error& error) {
            return std::string(error.what());
        }
        return std::string();
    };
    using T = LayerEntry::Type;
    EXPECT_NE(refused({{"usr/bin", T::dir, 0755, 0, 0, {}, "", ""}}), "");
    EXPECT_NE(refused({{"/", T::dir, 0755, 0, 0, {}, "", ""}}), "");
    EXPECT_NE(refused({{"/usr/../etc", T::dir, 0755, 0, 0, {}, "", ""}}), "");
    EXPECT_NE(refused({{"/usr/./etc", T::dir, 0755, 0, 0, {}, "", ""}}), "");
    EXPECT_NE(refused({{"/usr//etc", T::dir, 0755, 0, 0, {}, "", ""}}), "");
    EXPECT_NE(refused({{"/usr/", T::dir, 0755, 0, 0, {}, "", ""}}), "");
    EXPECT_NE(refused({{std::string("/a\0b", 4), T::dir, 0755, 0, 0, {}, "", ""}}), "");
    EXPECT_NE(refused({{"/etc/.wh.passwd", T::file, 0644, 0, 0, {}, "", ""}}), "");
    EXPECT_NE(refused({{"/etc/passwd", T::file, 0100644, 0, 0, {}, "", ""}}), "");
    EXPECT_NE(refused({{"/lib", T::symlink, 0777, 0, 0, {}, "", "usr/lib"},
                       {"/lib/x86_64-linux-gnu", T::dir, 0755, 0, 0, {}, "", ""}}),
              "");
    EXPECT_NE(refused({{"/lib", T::symlink, 0777, 0, 0, {}, "", ""}}), "");
    EXPECT_NE(refused({{"/bin/sh", T::hardlink, 0, 0, 0, {}, "", "/bin/dash"}}), "");
    EXPECT_NE(refused({{"/bin", T::dir, 0755, 0, 0, {}, "", ""},
                       {"/bin/sh", T::hardlink, 0, 0, 0, {}, "", "/bin"}}),
              "");
    EXPECT_NE(refused({{"/bin/a", T::hardlink, 0, 0, 0, {}, "", "/bin/b"},
                       {"/bin/b", T::hardlink, 0, 0, 0, {}, "", "/bin/a"}}),
              "");
    EXPECT_NE(refused({{"/bin/x", T::file, 0644, 0, 0, temp.path() / "missing", "", ""}}), "");
    EXPECT_NE(refused({{"/bin/x", T::file, 0644, 0, 0, temp.path(), "", ""}}), "");
    EXPECT_NE(refused({}, -1), "");
    EXPECT_NE(refused({{"/etc/a", T::file, 0644, 0, 0, {}, "1", ""},
                       {"/etc/a", T::dir, 0755, 0, 0, {}, "", ""}}),
              "");
    // A failure while streaming (the missing source) leaves neither the
    // output nor a temporary file.
    if (fs::exists(temp.path() / "out")) {
        EXPECT_EQ(files_in(temp.path() / "out"), 0u);
    }
}

TEST(ImageLayer, RewritingReplacesTheOutput) {
    dmc::TempDir temp("dmc-layer");
    LayerSpec spec;
    spec.entries = {{"/a", LayerEntry::Type::file, 0644, 0, 0, {}, "one", ""}};
    const LayerInfo first = write_layer(spec, temp.path() / "layer");
    spec.entries[0].content = "two";
    const LayerInfo second = write_layer(spec, temp.path() / "layer");
    EXPECT_NE(first.digest, second.digest);
    EXPECT_EQ("sha256:" + dmc::sha256_file(temp.path() / "layer"), second.digest);
    EXPECT_EQ(files_in(temp.path()), 1u);
}
