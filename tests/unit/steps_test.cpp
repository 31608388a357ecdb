#include "steps/steps.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace dmc::steps {
namespace {

// Hooks see their own options and those of every template of the image, with the
// declared defaults filled in: adminer's configure reads php's version.
TEST(HookSettings, OptionsOfTheImagesTemplatesWithTheirDefaults) {
    plugin::Catalog registry;
    registry.load_dirs({DMC_BUILTIN_PLUGIN_DIR});
    config::Settings settings = config::defaults();
    Context pipeline(settings, registry);
    const auto& adminer = *registry.find("adminer");
    auto s = pipeline.hook_settings(adminer, "amd64", "adminer");
    EXPECT_EQ(s.at("option.php.version"), "8.4");
    EXPECT_EQ(s.count("option.version"), 0u);  // adminer itself takes no version
    settings.template_options["php"]["version"] = "8.2";
    s = pipeline.hook_settings(*registry.find("php"), "amd64", "adminer");
    EXPECT_EQ(s.at("option.version"), "8.2");
    EXPECT_EQ(s.at("option.php.version"), "8.2");
    EXPECT_EQ(s.at("image_template"), "adminer");
}

TEST(LockFile, NameVersionLines) {
    auto pins = parse_lock_file("# pinned\nnginx 1.26.3-3\nlibc6=2.41-12 # trailing\n\n", "x.lock");
    EXPECT_EQ(pins.size(), 2u);
    EXPECT_EQ(pins["nginx"], "1.26.3-3");
    EXPECT_EQ(pins["libc6"], "2.41-12");
}

TEST(LockFile, MalformedLineNamesTheLine) {
    try {
        parse_lock_file("nginx 1\ncurl\n", "x.lock");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("x.lock:2"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace dmc::steps
