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

// The options recorded in the lock and keyed for rebuilds are those that change
// the image bytes, with every template's of the image.
TEST(ImageOptions, WhatChangesTheBytes) {
    plugin::Catalog registry;
    registry.load_dirs({DMC_BUILTIN_PLUGIN_DIR});
    config::Settings settings = config::defaults();
    Context pipeline(settings, registry);
    auto options = image_options(pipeline, "adminer");
    EXPECT_EQ(options.at("tools"), "false");
    EXPECT_EQ(options.at("mode"), "micro");
    EXPECT_EQ(options.at("php.version"), "8.4");
    EXPECT_EQ(options.count("source_date_epoch"), 0u);
    settings.tools = true;
    settings.source_date_epoch = 1700000000;
    options = image_options(pipeline, "adminer");
    EXPECT_EQ(options.at("tools"), "true");
    EXPECT_EQ(options.at("source_date_epoch"), "1700000000");
    const auto templates = image_templates(pipeline, "adminer");
    EXPECT_EQ(templates.count("php"), 1u);
    EXPECT_EQ(templates.count("nginx"), 1u);
    EXPECT_EQ(templates.at("adminer"), registry.find("adminer")->version);
}

TEST(LockedRefs, FetchFromTheLockedMirror) {
    lock::Entry e;
    e.packages.push_back({"libc6", "2.41-12", "amd64", std::string(64, 'a'), 42, "http://m/debian",
                          "trixie", "main", "pool/main/g/glibc/libc6_2.41-12_amd64.deb"});
    const auto refs = locked_refs(e);
    ASSERT_EQ(refs.size(), 1u);
    EXPECT_EQ(refs[0].url, "http://m/debian/pool/main/g/glibc/libc6_2.41-12_amd64.deb");
    EXPECT_EQ(refs[0].size, 42u);
    EXPECT_EQ(refs[0].suite, "trixie");
}

}  // namespace
}  // namespace dmc::steps
