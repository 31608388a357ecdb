// push.cpp without a registry: what is read from the layout, the tags, and the
// errors that come before any request.
#include <gtest/gtest.h>

#include <functional>

#include "image/layer.hpp"
#include "image/oci.hpp"
#include "registry/push.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using namespace dmc;

namespace {

// A layout like dmc writes: an index over amd64 and arm64 named "latest".
std::string make_layout(const fs::path& layout, const std::string& version) {
    std::vector<image::Descriptor> manifests;
    std::map<std::string, image::Descriptor> refs;
    for (const std::string arch : {"amd64", "arm64"}) {
        image::LayerSpec spec;
        image::LayerEntry e;
        e.path = "/etc/arch";
        e.content = arch + "\n";
        spec.entries.push_back(e);
        auto layer = image::write_layer(spec, layout.parent_path() / (arch + ".tar.gz"));
        image::ImageConfig config;
        config.architecture = arch;
        if (arch == "arm64") config.variant = "v8";
        if (!version.empty()) config.labels["org.opencontainers.image.version"] = version;
        manifests.push_back(image::write_image(layout, config, {layer}));
        refs["latest-" + arch] = manifests.back();
    }
    auto index = image::write_image_index(layout, manifests);
    refs["latest"] = index;
    image::write_layout_index(layout, refs);
    return index.digest;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(RegistryPush, DefaultTagsAreTheTagAndTheVersion) {
    TempDir tmp;
    make_layout(tmp.path() / "nginx", "1.26.3-3+deb13u1");
    EXPECT_EQ(registry::default_tags(tmp.path() / "nginx", "latest", "latest"),
              (std::vector<std::string>{"latest", "1.26.3-3_deb13u1"}));
    // A per-arch ref names a manifest: its config gives the version too.
    EXPECT_EQ(registry::default_tags(tmp.path() / "nginx", "latest-arm64", "stable"),
              (std::vector<std::string>{"stable", "1.26.3-3_deb13u1"}));

    TempDir other;
    make_layout(other.path() / "x", "");
    EXPECT_EQ(registry::default_tags(other.path() / "x", "latest", "latest"),
              std::vector<std::string>{"latest"});
}

TEST(RegistryPush, LayoutErrorsComeBeforeAnyRequest) {
    TempDir tmp;
    const fs::path layout = tmp.path() / "nginx";
    make_layout(layout, "1.0");
    registry::PushOptions o;
    o.registry = "127.0.0.1:1/team";  // nothing listens: these must fail before connecting
    o.retries = 0;

    auto m = error_of([&] { registry::push_layout(o, layout, "nope", "nginx", {"latest"}); });
    EXPECT_NE(m.find("has no image named 'nope' (it has: latest, latest-amd64, latest-arm64)"),
              std::string::npos)
        << m;
    m = error_of(
        [&] { registry::push_layout(o, tmp.path() / "none", "latest", "nginx", {"latest"}); });
    EXPECT_NE(m.find("no image layout at"), std::string::npos) << m;
    EXPECT_THROW(registry::push_layout(o, layout, "latest", "nginx", {"bad+tag"}), UsageError);
    EXPECT_THROW(registry::push_layout(o, layout, "latest", "Nginx", {"latest"}), UsageError);
    o.registry = "bad host";
    EXPECT_THROW(registry::push_layout(o, layout, "latest", "nginx", {"latest"}), UsageError);

    // A blob gone from the layout is named before anything is sent.
    o.registry = "127.0.0.1:1/team";
    std::size_t removed = 0;
    for (const auto& f : fs::directory_iterator(layout / "blobs" / "sha256")) {
        const std::string text = read_file(f.path());
        // The gzip layers are the blobs that are not JSON.
        if (!text.empty() && text[0] != '{') {
            fs::remove(f.path());
            ++removed;
            break;
        }
    }
    ASSERT_EQ(removed, 1u);
    m = error_of([&] { registry::push_layout(o, layout, "latest", "nginx", {"latest"}); });
    EXPECT_NE(m.find("lacks sha256:"), std::string::npos) << m;
    EXPECT_NE(m.find("build the image again"), std::string::npos) << m;
}

TEST(RegistryPush, AnUnreachableRegistryIsNamed) {
    TempDir tmp;
    make_layout(tmp.path() / "nginx", "1.0");
    registry::PushOptions o;
    o.registry = "127.0.0.1:1/team";
    o.retries = 0;
    o.credentials.docker_config = tmp.path() / "no-docker";
    const auto m = error_of(
        [&] { registry::push_layout(o, tmp.path() / "nginx", "latest", "nginx", {"latest"}); });
    EXPECT_NE(m.find("cannot reach registry 127.0.0.1:1"), std::string::npos) << m;
}
