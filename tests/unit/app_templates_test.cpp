#include <gtest/gtest.h>

#include <algorithm>

#include "app/templates.hpp"
#include "arch/arch.hpp"
#include "util/error.hpp"

namespace dmc::app {
namespace {

using Strings = std::vector<std::string>;

const plugin::Catalog& registry() {
    static plugin::Catalog r;
    static bool loaded = false;
    if (!loaded) {
        r.load_dirs({DMC_BUILTIN_PLUGIN_DIR, std::string(DMC_TEST_PLUGIN_DIR) + "/external"});
        loaded = true;
    }
    return r;
}

TEST(Selection, GroupsInTheOrderGiven) {
    EXPECT_EQ(choose_templates(registry(), {}, {"core", "base", "app"}),
              (Strings{"nginx", "php", "mariadb", "adminer", "hello"}));
    EXPECT_EQ(choose_templates(registry(), {}, {"base", "core"}),
              (Strings{"mariadb", "nginx", "php"}));
}

TEST(Selection, ATemplateComesAfterThoseItBuildsOn) {
    EXPECT_EQ(choose_templates(registry(), {"adminer", "nginx", "php"}, {}),
              (Strings{"php", "nginx", "adminer"}));
    EXPECT_EQ(choose_templates(registry(), {"hello", "nginx"}, {}), (Strings{"nginx", "hello"}));
    // Alone, adminer does not pull the others in as images of their own.
    EXPECT_EQ(choose_templates(registry(), {"adminer"}, {}), Strings{"adminer"});
}

TEST(Selection, AllTemplatesButTheToolsByDefault) {
    const auto all = choose_templates(registry(), {}, {});
    EXPECT_EQ(all.size(), 5u);
    EXPECT_EQ(std::count(all.begin(), all.end(), "dmc"), 0);
    EXPECT_EQ(std::count(all.begin(), all.end(), "nginx-src"), 0);  // built when named
    EXPECT_EQ(choose_templates(registry(), {}, {"source"}), (Strings{"lighttpd-src", "nginx-src"}));
    EXPECT_EQ(choose_templates(registry(), {}, {"tools"}), Strings{"dmc"});
    EXPECT_EQ(choose_templates(registry(), {"dmc"}, {}), Strings{"dmc"});
}

TEST(Selection, UnknownNamesListTheValidOnes) {
    try {
        choose_templates(registry(), {"apache"}, {});
        FAIL();
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(),
                     "unknown template 'apache'; valid templates: adminer, dmc, hello, "
                     "lighttpd-src, mariadb, "
                     "nginx, nginx-src, php");
    }
    try {
        choose_templates(registry(), {}, {"db"});
        FAIL();
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(), "unknown group 'db'; valid groups: core, base, app, source, tools");
    }
}

TEST(Selection, CompositionPutsTheBasesFirst) {
    auto parts = registry().composition("adminer");
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[0]->name, "php");
    EXPECT_EQ(parts[1]->name, "nginx");
    EXPECT_EQ(parts[2]->name, "adminer");
}

TEST(Selection, Archs) {
    EXPECT_EQ(arch::arch_info("arm64").triplet, "aarch64-linux-gnu");
    EXPECT_EQ(arch::arch_info("amd64").oci, "amd64");
    EXPECT_NO_THROW(arch::check_archs({"amd64", "arm64"}));
    try {
        arch::check_archs({"amd64", "sparc"});
        FAIL();
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find(
                      "unknown architecture 'sparc'; valid architectures: amd64, arm64"),
                  std::string::npos);
    }
}

}  // namespace
}  // namespace dmc::app
