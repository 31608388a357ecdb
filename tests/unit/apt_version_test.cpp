#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "apt/version.hpp"

namespace dmc::apt {
namespace {

// Exit status of `dpkg --compare-versions a op b`: 0 true, 1 false, -1 if dpkg can't run.
int dpkg_compare(const std::string& a, const char* op, const std::string& b) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execlp("dpkg", "dpkg", "--compare-versions", a.c_str(), op, b.c_str(),
               static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) return -1;
    int code = WEXITSTATUS(status);
    return code <= 1 ? code : -1;
}

// dpkg's verdict as a sign: -1, 0 or 1; 2 when dpkg fails (bad version or no dpkg).
int dpkg_sign(const std::string& a, const std::string& b) {
    int lt = dpkg_compare(a, "lt", b);
    int eq = dpkg_compare(a, "eq", b);
    if (lt < 0 || eq < 0) return 2;
    if (lt == 0) return -1;
    return eq == 0 ? 0 : 1;
}

int sign(int v) { return (v > 0) - (v < 0); }

bool have_dpkg() { return dpkg_compare("1", "lt", "2") == 0; }

TEST(AptVersion, MatchesDpkgOnTrickyPairs) {
    if (!have_dpkg()) GTEST_SKIP() << "dpkg is not available";
    const std::vector<std::pair<std::string, std::string>> pairs = {
        {"1.0", "1.0"},
        {"1.0", "1.1"},
        {"1.0", "1.0-1"},
        {"1.0-0", "1.0"},
        {"1.0-1", "1.0-2"},
        {"1.0-1", "1.0-10"},
        {"1:1.0", "2.0"},
        {"0:1.0", "1.0"},
        {"1:0", "0:99"},
        {"10:1", "9:2"},
        {"00:1", "0:1"},
        {"1.0~rc1", "1.0"},
        {"1.0~rc1", "1.0~rc2"},
        {"1.0~~", "1.0~"},
        {"1.0~~a", "1.0~~"},
        {"1.0~", "1.0"},
        {"1~", "1~~"},
        {"1.0+1", "1.0"},
        {"1.0.1", "1.0+1"},
        {"1.0a", "1.0"},
        {"1.0a", "1.0+"},
        {"1.0a", "1.0."},
        {"1.0a", "1.0~"},
        {"1.0.", "1.0"},
        {"1.0..", "1.0."},
        {"1+", "1."},
        {"1.0-1~bpo1", "1.0-1"},
        {"01", "1"},
        {"001.002", "1.2"},
        {"1.0", "1.00"},
        {"1.10", "1.9"},
        {"1.01", "1.1"},
        {"9", "10"},
        {"1A", "1a"},
        {"1Z", "1a"},
        {"1.0-a", "1.0-+"},
        {"1.0-1.1", "1.0-1+1"},
        {"1-2-3", "1-2-4"},
        {"1.2-3-4", "1.2-3.4"},
        {"1.0-1+b1", "1.0-1"},
        {"2.30-1", "2.4-1"},
        {"99999999999999999999999", "99999999999999999999998"},
        {"1.123456789012345678901234567890", "1.123456789012345678901234567891"},
        {"0000000000000000000000001", "1"},
        {"1:1.0-1", "1:1.0-1"},
        {"0:1.0-0", "1.0"},
        {"2:1~", "2:1"},
        {"1.0+dfsg", "1.0"},
        {"1.0+dfsg-1", "1.0-1"},
        {"1.0~dfsg-1", "1.0-1"},
        {"3.5.9-1~deb13u1", "3.5.9-1"},
        {"1:1.3.dfsg+really1.3.1-1+deb13u1", "1:1.3.dfsg-3"},
        {"7.88.1-10+deb12u5", "7.88.1-10+deb12u12"},
        {"2.41-12+deb13u5", "2.41-12"},
        {"4.2", "4.2a"},
        {"4.2a", "4.2b"},
        {"4.2.a", "4.2a"},
        {"1~a", "1~b"},
        {"1.0-0.1", "1.0"},
        {"1.0-1", "1.0-1.0"},
        {"5.36.0-7+deb12u1", "5.36.0-7"},
        {"1:2.38.1-5+deb12u3", "2.40.1"},
        {"20230311", "20230311.1"},
        {"2024a-0+deb12u1", "2024a-0"},
        {"3.0.11-1~deb12u2", "3.0.11-1~deb12u10"},
    };
    // And every pair from a list that mixes all the rules.
    const std::vector<std::string> mix = {"0",      "1",      "1.0",  "1.0-1", "1:0.9", "1.0~",
                                          "1.0~~",  "1.0+",   "1.0a", "1.0.0", "1.0-0", "2~1",
                                          "1.0-1a", "1.0-1~", "1.00", "1a.0",  "1.0b2", "0.9+1.0"};
    std::vector<std::pair<std::string, std::string>> all = pairs;
    for (std::size_t i = 0; i < mix.size(); ++i)
        for (std::size_t j = i + 1; j < mix.size(); ++j) all.emplace_back(mix[i], mix[j]);
    ASSERT_GE(all.size(), 100u);

    for (const auto& [a, b] : all) {
        int expected = dpkg_sign(a, b);
        ASSERT_NE(expected, 2) << "dpkg rejected " << a << " / " << b;
        EXPECT_EQ(sign(compare_versions(a, b)), expected) << a << " vs " << b;
        EXPECT_EQ(sign(compare_versions(b, a)), -expected) << b << " vs " << a;
    }
}

TEST(AptVersion, LongDigitRunsDoNotOverflow) {
    std::string big(400, '9');
    EXPECT_GT(compare_versions(big + "1", big), 0);
    EXPECT_LT(compare_versions("1:" + big, "2:0"), 0);
    EXPECT_GT(compare_versions(big + ":0", "99:0"), 0);
    EXPECT_EQ(compare_versions("000" + big, big), 0);
}

TEST(AptVersion, Satisfies) {
    EXPECT_TRUE(satisfies("1.0", RelationOp::None, ""));
    EXPECT_TRUE(satisfies("1.0", RelationOp::Less, "1.1"));
    EXPECT_FALSE(satisfies("1.1", RelationOp::Less, "1.1"));
    EXPECT_TRUE(satisfies("1.1", RelationOp::LessEq, "1.1"));
    EXPECT_TRUE(satisfies("1.1", RelationOp::Equal, "1.1-0"));
    EXPECT_FALSE(satisfies("1.1-1", RelationOp::Equal, "1.1"));
    EXPECT_TRUE(satisfies("1.1", RelationOp::GreaterEq, "1.1"));
    EXPECT_TRUE(satisfies("1.2", RelationOp::Greater, "1.1"));
    EXPECT_FALSE(satisfies("1.1", RelationOp::Greater, "1.1"));
    EXPECT_TRUE(satisfies("1.0~rc1", RelationOp::Less, "1.0"));
}

TEST(AptVersion, ParsesOperatorsIncludingObsoleteOnes) {
    EXPECT_EQ(parse_relation_op("<<"), RelationOp::Less);
    EXPECT_EQ(parse_relation_op("<="), RelationOp::LessEq);
    EXPECT_EQ(parse_relation_op("<"), RelationOp::LessEq);  // obsolete, as dpkg reads it
    EXPECT_EQ(parse_relation_op("="), RelationOp::Equal);
    EXPECT_EQ(parse_relation_op(">="), RelationOp::GreaterEq);
    EXPECT_EQ(parse_relation_op(">"), RelationOp::GreaterEq);  // obsolete
    EXPECT_EQ(parse_relation_op(">>"), RelationOp::Greater);
    EXPECT_FALSE(parse_relation_op("=>").has_value());
    EXPECT_FALSE(parse_relation_op("").has_value());
    EXPECT_EQ(to_string(RelationOp::Greater), ">>");
}

// What the differential fuzz target found: dpkg reads a version as a trimmed C string
// and its epoch with strtol().
TEST(AptVersion, ReadsVersionsAsDpkgDoes) {
    using namespace std::string_view_literals;
    EXPECT_EQ(compare_versions("1.0\0-1+b1"sv, "1.0"), 0);
    EXPECT_EQ(compare_versions("111"sv, "111\0u1"sv), 0);
    EXPECT_GT(compare_versions("1a", "1 "), 0);  // "1 " is "1", before "1a"
    EXPECT_EQ(compare_versions("\f1:2", "1:2"), 0);
    EXPECT_EQ(compare_versions(" 2.0\t\n", "2.0"), 0);
    EXPECT_EQ(compare_versions("+2:1", "2:1"), 0);
    EXPECT_EQ(compare_versions("-00:1", "1"), 0);
    EXPECT_GT(compare_versions("2", "-00:1"), 0);
}

}  // namespace
}  // namespace dmc::apt
