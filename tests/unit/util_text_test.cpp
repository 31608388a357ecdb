#include <gtest/gtest.h>

#include "util/text.hpp"

namespace dmc {
namespace {

TEST(UtilText, ShortTextIsNotCut) { EXPECT_EQ(cut_for_console("one\ntwo"), "one\ntwo"); }

TEST(UtilText, LongLinesAndManyLinesAreCutAndSaySo) {
    const std::string line(1000, 'x');
    const std::string cut = cut_for_console(line, 100, 20);
    EXPECT_EQ(cut.substr(0, 103), std::string(100, 'x') + "...");
    EXPECT_NE(cut.find("(cut: 900 more characters)"), std::string::npos) << cut;
    std::string many;
    for (int i = 0; i < 30; ++i) many += "line " + std::to_string(i) + "\n";
    many.pop_back();
    const std::string lines = cut_for_console(many, 100, 20);
    EXPECT_NE(lines.find("line 19"), std::string::npos);
    EXPECT_EQ(lines.find("line 20"), std::string::npos);
    EXPECT_NE(lines.find("10 more lines"), std::string::npos) << lines;
}

TEST(UtilText, ControlCharactersAreShownNotSent) {
    EXPECT_EQ(escape_controls("a\x1b[2Jb\tc\nd\r"), "a\\x1b[2Jb\\tc\nd\\x0d");
    EXPECT_EQ(escape_controls("plain caf\xc3\xa9"), "plain caf\xc3\xa9");  // UTF-8 stays
}

TEST(UtilText, CredentialsLeaveUrls) {
    EXPECT_EQ(without_credentials("https://user:s3cret@mirror.example/debian"),
              "https://mirror.example/debian");
    EXPECT_EQ(without_credentials("http://u@host:8080"), "http://host:8080");
    EXPECT_EQ(without_credentials("http://host/a@b"), "http://host/a@b");  // @ in the path stays
    EXPECT_EQ(without_credentials("file:///srv/mirror"), "file:///srv/mirror");
    EXPECT_EQ(redact_credentials("see https://user:pw@host/x and http://h/y"),
              "see https://***@host/x and http://h/y");
}

}  // namespace
}  // namespace dmc
