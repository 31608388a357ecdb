#include <gtest/gtest.h>

#include "apt/release.hpp"
#include "util/error.hpp"

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
    EXPECT_EQ(signed_message("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSuite: x\n- "
                             "-dashed\n-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP "
                             "SIGNATURE-----\n\n",
                             "InRelease"),
              "Suite: x\n-dashed\n");
}

// What apt refuses too: a second signed part (gpgv would check both and print both),
// text before or after the armour, armour lines inside the text, cut signatures.
TEST(Release, OneSignedPartOnly) {
    const std::string head = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n";
    const std::string sig = "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n";
    auto refusal = [](const std::string& text) {
        try {
            signed_message(text, "m/InRelease");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    auto has = [](const std::string& text, const std::string& part) {
        return text.find(part) != std::string::npos;
    };
    EXPECT_EQ(refusal(head + "Suite: a\n" + sig + head + "Suite: b\n" + sig),
              "m/InRelease:8: text after the signature; refusing it (the mirror is broken or "
              "tampered with)");
    EXPECT_PRED2(has, refusal("Suite: evil\n" + head + "Suite: a\n" + sig),
                 "m/InRelease:1: it does not start with -----BEGIN PGP");
    EXPECT_PRED2(has, refusal(head + "Suite: a\n" + sig + "Suite: evil\n"),
                 ":8: text after the signature");
    EXPECT_PRED2(has, refusal(head + "Suite: a\n" + head + "Suite: b\n" + sig),
                 ":5: an armour line inside the signed text: '-----BEGIN PGP");
    EXPECT_PRED2(has, refusal("-----BEGIN PGP SIGNED MESSAGE-----\nComment: x\n\nSuite: a\n" + sig),
                 ":2: unexpected armour header 'Comment: x'");
    EXPECT_PRED2(has, refusal(head + "Suite: a\n-----BEGIN PGP SIGNATURE-----\nabc\n"),
                 "the signature is cut off");
    EXPECT_PRED2(has, refusal(head + "Suite: a\n"), "no signature");
    EXPECT_EQ(signed_message("Suite: a\n", "m/InRelease"), "Suite: a\n");  // unsigned: as it is
    EXPECT_EQ(refusal(head + "Suite: a\r\n" + sig), "accepted");
}

}  // namespace
}  // namespace dmc::apt
