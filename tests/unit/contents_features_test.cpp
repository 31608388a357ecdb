#include <gtest/gtest.h>

#include "contents/features.hpp"
#include "util/error.hpp"

namespace dmc::contents {
namespace {

using Strings = std::vector<std::string>;

TEST(Features, EachFeatureMeansItsPackagesAndFiles) {
    const auto f = Features::of(
        {"tzdata", "ca-certificates", "tzdata", "system-users", "mime-types"}, false, false);
    EXPECT_EQ(f.wanted, (Strings{"tzdata", "ca-certificates", "system-users",
                                 "mime-types"}));  // once each, in order
    EXPECT_EQ(f.packages(),
              (Strings{"tzdata", "ca-certificates", "base-passwd", "media-types", "base-files"}));
    EXPECT_EQ(f.collected_paths(),
              (Strings{"/usr/share/zoneinfo", "/usr/share/ca-certificates", "/etc/mime.types"}));
    EXPECT_FALSE(f.small);
}

TEST(Features, ToolsAndSmallFromTheUserOrTheTemplate) {
    const auto tools = Features::of({}, true, false);
    EXPECT_EQ(tools.packages(), (Strings{"busybox-static", "base-files"}));
    EXPECT_TRUE(Features::of({"small"}, false, false).small);
    EXPECT_TRUE(Features::of({}, false, true).small);
    EXPECT_TRUE(Features::of({"small"}, false, false).wanted.empty());
}

TEST(Features, AnUnknownFeatureIsNamed) {
    try {
        Features::of({"tzdata", "timezones"}, false, false);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("unknown image feature 'timezones'"),
                  std::string::npos);
        EXPECT_NE(
            std::string(e.what()).find("ca-certificates, mime-types, small, system-users, tzdata"),
            std::string::npos);
    }
}

TEST(Features, TheMergedUsrLinksAreDefinedOnce) {
    std::vector<std::string> always, sometimes;
    for (const auto& l : merged_usr_links()) (l.always ? always : sometimes).emplace_back(l.dir);
    EXPECT_EQ(always, (Strings{"bin", "sbin", "lib"}));
    EXPECT_EQ(sometimes, Strings{"lib64"});
}

}  // namespace
}  // namespace dmc::contents
