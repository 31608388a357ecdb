#include <gtest/gtest.h>

#include <fstream>

#include "image/layer.hpp"
#include "image/layout_reader.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using namespace dmc::image;

namespace {

struct Layout {
    dmc::TempDir temp;
    fs::path dir = temp.path() / "layout";
    Descriptor amd64, arm64, index;

    LayerInfo layer(const std::string& marker) {
        LayerSpec spec;
        spec.mtime = 1700000000;
        spec.entries = {{"/hello", LayerEntry::Type::file, 0644, 0, 0, {}, marker, ""}};
        return write_layer(spec, temp.path() / ("layer-" + marker));
    }
    ImageConfig config(const std::string& arch) {
        ImageConfig c;
        c.architecture = arch;
        c.variant = arch == "arm64" ? "v8" : "";
        c.created = 1700000000;
        c.labels["org.opencontainers.image.version"] = "1.26.3-3+deb13u1";
        return c;
    }
    Layout() {
        amd64 = write_image(dir, config("amd64"), {layer("a")});
        arm64 = write_image(dir, config("arm64"), {layer("b")});
        index = write_image_index(dir, {amd64, arm64});
        write_layout_index(dir, {{"latest", index}, {"latest-amd64", amd64}});
    }
};

TEST(ImageLayoutReader, ReadsWhatTheWriterWrote) {
    Layout l;
    EXPECT_EQ(find_ref(l.dir, "latest").digest, l.index.digest);
    EXPECT_EQ(find_ref(l.dir, "latest-amd64").digest, l.amd64.digest);
    const auto content = read_content(l.dir, "latest");
    ASSERT_EQ(content.documents.size(), 3u);  // two manifests, then the index
    EXPECT_EQ(content.documents.back().digest, l.index.digest);
    EXPECT_EQ(content.blobs.size(), 4u);  // two configs, two layers
    for (const auto& b : content.blobs) EXPECT_EQ(fs::file_size(b.path), b.size) << b.digest;
    EXPECT_EQ(config_label(l.dir, "latest", "org.opencontainers.image.version"),
              "1.26.3-3+deb13u1");
    EXPECT_EQ(config_label(l.dir, "latest-amd64", "no.such.label"), "");
}

TEST(ImageLayoutReader, MissingRefsAndDamagedBlobsAreNamed) {
    Layout l;
    try {
        find_ref(l.dir, "v2");
        FAIL();
    } catch (const dmc::Error& e) {
        EXPECT_NE(
            std::string(e.what()).find("has no image named 'v2' (it has: latest, latest-amd64)"),
            std::string::npos)
            << e.what();
    }
    std::ofstream(blob_path(l.dir, l.amd64.digest), std::ios::app) << " ";
    try {
        read_content(l.dir, "latest");
        FAIL();
    } catch (const dmc::Error& e) {
        EXPECT_NE(std::string(e.what()).find("holds a corrupt " + l.amd64.digest),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW(find_ref(l.temp.path() / "nothing", "latest"), dmc::Error);
}

}  // namespace
