#include "source/source.hpp"

#include <gtest/gtest.h>

#include "source/buildenv.hpp"
#include "util/error.hpp"

using namespace dmc::source;

TEST(SourceChecksums, ReadsTheLinesOfADscOrASourcesStanza) {
    const std::string field =
        "\n b1b8dc9c2fa47dcd46844f68833bc80244220a127299be36754bbb3b5d56192e 3610 "
        "nginx_1.26.3-3.dsc\n"
        " 69ee2b237744036e61d24b836668aad3040dda461fe6f570f1787eab570c75aa 1260179 "
        "nginx_1.26.3.orig.tar.gz";
    auto files = checksum_list(field, "test");
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[1].name, "nginx_1.26.3.orig.tar.gz");
    EXPECT_EQ(files[1].size, 1260179u);
    EXPECT_EQ(files[0].sha256.substr(0, 8), "b1b8dc9c");
}

TEST(SourceChecksums, RefusesWhatIsNotAFileList) {
    const std::string sha(64, 'a');
    EXPECT_THROW(checksum_list("", "t"), dmc::Error);
    EXPECT_THROW(checksum_list(sha + " 12", "t"), dmc::Error);
    EXPECT_THROW(checksum_list(sha + " 12x name", "t"), dmc::Error);
    EXPECT_THROW(checksum_list(std::string(63, 'a') + " 12 name", "t"), dmc::Error);
    EXPECT_THROW(checksum_list(sha + " 12 ../escape", "t"), dmc::Error);
    EXPECT_THROW(checksum_list(sha + " 12 a/b", "t"), dmc::Error);
}

TEST(SourceDigest, NamesEveryFile) {
    Source a;
    a.files = {{"x.dsc", std::string(64, 'a'), 1, {}}};
    Source b = a;
    b.files[0].sha256 = std::string(64, 'b');
    EXPECT_NE(a.digest(), b.digest());
    EXPECT_TRUE(a.debian());
}

TEST(BuildEnv, KeyedByDistArchsSourcesAndDependencies) {
    BuildEnvRequest r;
    r.dist = "trixie";
    r.build_arch = r.host_arch = "amd64";
    r.sources = {"deb http://mirror/debian trixie main"};
    r.depends = {"libssl-dev, zlib1g-dev"};
    const auto key = buildenv_key(r);
    EXPECT_EQ(key.size(), 16u);
    auto cross = r;
    cross.host_arch = "arm64";
    EXPECT_NE(buildenv_key(cross), key);
    auto more = r;
    more.depends.push_back("libpcre2-dev");
    EXPECT_NE(buildenv_key(more), key);
    auto reordered = more;
    std::swap(reordered.depends[0], reordered.depends[1]);
    EXPECT_EQ(buildenv_key(reordered), buildenv_key(more));
}

TEST(BuildEnv, LastLinesOfALog) {
    EXPECT_EQ(last_lines("a\nb\nc\nd\n", 2), "c\nd");
    EXPECT_EQ(last_lines("a\nb", 5), "a\nb");
    EXPECT_EQ(last_lines("", 3), "");
}
