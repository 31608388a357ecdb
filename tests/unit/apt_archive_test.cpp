#include <gtest/gtest.h>

#include <string>

#include "apt/archive.hpp"
#include "util/error.hpp"

namespace dmc::apt {
namespace {

TEST(Archive, SecuritySuites) {
    EXPECT_TRUE(security_suite("trixie-security"));
    EXPECT_TRUE(security_suite("buster/updates"));
    EXPECT_FALSE(security_suite("trixie-updates"));
    EXPECT_FALSE(security_suite("trixie"));
}

TEST(Archive, SnapshotMirrors) {
    EXPECT_TRUE(is_snapshot_mirror("http://s.example/archive/debian/20250520T000000Z"));
    EXPECT_TRUE(is_snapshot_mirror("http://s.example/archive/debian-security/20250520T101500Z/"));
    EXPECT_FALSE(is_snapshot_mirror("http://s.example/debian"));
    EXPECT_FALSE(is_snapshot_mirror("http://s.example/debian/20250520T000000Z"));
    EXPECT_FALSE(is_snapshot_mirror("http://s.example/archive/debian/20250520"));
    EXPECT_EQ(snapshot_mirror("http://s.example/", "http://m.example/debian-security/",
                              "20250520T000000Z"),
              "http://s.example/archive/debian-security/20250520T000000Z");
    // A snapshot mirror moved to another date keeps its archive.
    EXPECT_EQ(
        snapshot_mirror("http://s.example", "http://s.example/archive/debian/20240101T000000Z",
                        "20250520T000000Z"),
        "http://s.example/archive/debian/20250520T000000Z");
}

TEST(Archive, SnapshotDateOfARelease) {
    EXPECT_EQ(snapshot_date_of("Sat, 08 Nov 2025 09:47:00 UTC"), "20251108T094700Z");
    EXPECT_EQ(snapshot_date_of("Sat, 08 Nov 2025 23:47:00 UTC", 6 * 3600), "20251109T054700Z");
    EXPECT_EQ(snapshot_date_of("not a date"), "");
}

TEST(Archive, TheIndexFormTakenFollowsTheMirrorsRate) {
    EXPECT_STREQ(index_formats(std::nullopt)[0], ".xz");  // not measured yet
    EXPECT_STREQ(index_formats(kFastMirror / 10)[0], ".xz");
    EXPECT_STREQ(index_formats(kFastMirror)[0], ".gz");
    EXPECT_STREQ(index_formats(kFastMirror)[1], ".xz");  // where there is no gzip form
    EXPECT_STREQ(index_formats(kFastMirror)[3], "");     // nor any compressed one
}

}  // namespace
}  // namespace dmc::apt
