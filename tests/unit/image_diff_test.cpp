#include <gtest/gtest.h>

#include "image/compression.hpp"
#include "image/diff.hpp"
#include "image/tar_writer.hpp"
#include "util/error.hpp"

namespace dmc::image {
namespace {

struct Entry {
    TarHeader header;
    std::string data;
};

std::string tar(const std::vector<Entry>& entries, Compression compression) {
    std::string out;
    auto compressor = Compressor::create(compression, 1, [&out](const void* d, std::size_t n) {
        out.append(static_cast<const char*>(d), n);
    });
    TarWriter writer([&compressor](const void* d, std::size_t n) { compressor->write(d, n); });
    for (auto e : entries) {
        e.header.size = e.data.size();
        writer.write_header(e.header);
        if (!e.data.empty()) writer.write_data(e.data.data(), e.data.size());
    }
    writer.finish();
    compressor->finish();
    return out;
}

Entry file(std::string name, std::string data, std::uint32_t mode = 0644) {
    return {{.name = std::move(name), .mode = mode}, std::move(data)};
}

const std::string hello_record = "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\n";

TEST(ImageDiff, ListsFilesPackagesAndBytesOfACompressedLayer) {
    const auto layer =
        tar({{{.name = "usr/", .kind = TarHeader::Kind::directory, .mode = 0755}, ""},
             file("usr/bin/hello", "binary", 0755),
             {{.name = "usr/bin/hi", .kind = TarHeader::Kind::symlink, .link_target = "hello"}, ""},
             file("var/lib/dpkg/status.d/hello", hello_record)},
            Compression::gzip);
    const Listing l = list_layer(layer);
    ASSERT_EQ(l.files.size(), 4u);
    EXPECT_EQ(l.files.at("/usr").type, 'd');
    EXPECT_EQ(l.files.at("/usr/bin/hello").size, 6u);
    EXPECT_EQ(l.files.at("/usr/bin/hello").mode, 0755u);
    EXPECT_EQ(l.files.at("/usr/bin/hi").target, "hello");
    EXPECT_EQ(l.packages.at("hello"), "2.10-3 (amd64)");
    EXPECT_EQ(l.bytes, 6 + hello_record.size());
}

TEST(ImageDiff, AddedRemovedAndChangedInNameOrder) {
    const Listing before = list_layer(tar({file("a", "1"), file("b", "same"), file("c", "old"),
                                           file("var/lib/dpkg/status.d/hello", hello_record)},
                                          Compression::none));
    const Listing after = list_layer(
        tar({file("b", "same"), file("c", "new"), file("d", "4", 0755)}, Compression::zstd));
    const auto changes = compare(before, after);
    ASSERT_EQ(changes.size(), 5u);
    EXPECT_EQ(changes[0].what, "package");
    EXPECT_EQ(changes[0].change, '-');
    EXPECT_EQ(changes[0].before, "2.10-3 (amd64)");
    EXPECT_EQ(changes[1].name, "/a");
    EXPECT_EQ(changes[1].change, '-');
    EXPECT_EQ(changes[2].name, "/c");
    EXPECT_EQ(changes[2].change, '~');
    EXPECT_NE(changes[2].before, changes[2].after);  // same size, other content
    EXPECT_EQ(changes[3].name, "/d");
    EXPECT_EQ(changes[3].change, '+');
    EXPECT_EQ(changes[3].after.substr(0, 9), "1 B, 0755");
    EXPECT_EQ(changes[4].name, "/var/lib/dpkg/status.d/hello");
    EXPECT_TRUE(compare(after, after).empty());
}

TEST(ImageDiff, ADamagedLayerIsAnError) {
    std::string layer = tar({file("a", std::string(100000, 'x'))}, Compression::gzip);
    EXPECT_THROW(list_layer("not a tar at all"), Error);
    layer.resize(layer.size() / 2);
    EXPECT_THROW(list_layer(layer), Error);
}

TEST(ImageDiff, HumanSizes) {
    EXPECT_EQ(human_size(999), "999 B");
    EXPECT_EQ(human_size(1234), "1.23 kB");
    EXPECT_EQ(human_size(12345678), "12.3 MB");
}

}  // namespace
}  // namespace dmc::image
