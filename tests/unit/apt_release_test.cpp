#include <gtest/gtest.h>

#include "apt/release.hpp"

namespace dmc::apt {
namespace {

TEST(Release, ParsesTheFieldsAndHashes) {
    auto r = parse_release(
        "Origin: Debian\nSuite: stable\nCodename: trixie\nDate: Sat, 08 Nov 2025 09:47:00 UTC\n"
        "Valid-Until: Sat, 15 Nov 2025 09:47:00 UTC\nAcquire-By-Hash: yes\n"
        "Architectures: amd64 arm64\nComponents: main contrib\nSHA256:\n"
        " " +
        std::string(64, 'a') +
        " 123 main/binary-amd64/Packages.xz\n"
        " " +
        std::string(64, 'b') + "   4567 main/binary-amd64/Packages\n");
    EXPECT_EQ(r.codename, "trixie");
    EXPECT_EQ(r.suite, "stable");
    EXPECT_TRUE(r.acquire_by_hash);
    EXPECT_EQ(r.architectures, (std::vector<std::string>{"amd64", "arm64"}));
    ASSERT_EQ(r.files.size(), 2u);
    EXPECT_EQ(r.files.at("main/binary-amd64/Packages.xz").size, 123u);
    EXPECT_EQ(r.files.at("main/binary-amd64/Packages").sha256, std::string(64, 'b'));
    ASSERT_TRUE(r.valid_until);
    EXPECT_EQ(*r.valid_until, 1763200020);  // date -d 'Sat, 15 Nov 2025 09:47:00 UTC' +%s
}

TEST(Release, DatesAndClearsign) {
    EXPECT_FALSE(parse_release_date("yesterday"));
    EXPECT_EQ(*parse_release_date("Thu, 01 Jan 1970 00:00:10 UTC"), 10);
    EXPECT_EQ(
        strip_clearsign("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSuite: x\n- -dashed\n"
                        "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n"),
        "Suite: x\n-dashed\n");
}

}  // namespace
}  // namespace dmc::apt
