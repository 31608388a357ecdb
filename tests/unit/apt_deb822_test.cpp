#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "apt/deb822.hpp"

namespace dmc::apt {
namespace {

std::vector<Stanza> stanzas(std::string_view text) {
    std::vector<Stanza> out;
    for (const Stanza& s : Deb822(text)) out.push_back(s);
    return out;
}

TEST(AptDeb822, SplitsParagraphsOnBlankLines) {
    const std::string text =
        "\n\nPackage: a\nVersion: 1\n\n\n"
        "Package: b\nVersion: 2\n \t \n"  // a line of blanks separates too
        "Package: c\nVersion: 3";         // no final newline
    auto all = stanzas(text);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].get("Package"), "a");
    EXPECT_EQ(all[1].get("Version"), "2");
    EXPECT_EQ(all[2].get("Version"), "3");
    EXPECT_EQ(all[0].text(), "Package: a\nVersion: 1");
}

TEST(AptDeb822, EmptyTextHasNoParagraphs) {
    EXPECT_TRUE(stanzas("").empty());
    EXPECT_TRUE(stanzas("\n\n  \n").empty());
}

TEST(AptDeb822, FieldNamesAreCaseInsensitive) {
    Stanza s("Package: a\nMulti-Arch: same\n");
    EXPECT_EQ(s.get("multi-arch"), "same");
    EXPECT_EQ(s.get("MULTI-ARCH"), "same");
    EXPECT_FALSE(s.find("Depends").has_value());
    EXPECT_EQ(s.get("Depends"), "");
    EXPECT_TRUE(field_name_equals("SHA256", "sha256"));
    EXPECT_FALSE(field_name_equals("SHA256", "SHA25"));
}

TEST(AptDeb822, ContinuationLinesBelongToTheField) {
    const std::string text =
        "Package: a\n"
        "Depends: b,\n c (>= 1),\n\td\n"
        "Description: short\n long line one\n .\n long line two\n"
        "Version:   1.0  \n";
    Stanza s = stanzas(text).at(0);
    EXPECT_EQ(s.get("Depends"), "b,\n c (>= 1),\n\td");
    EXPECT_EQ(s.get("Description"), "short\n long line one\n .\n long line two");
    EXPECT_EQ(s.get("Version"), "1.0");  // blanks around a value are not part of it

    std::vector<std::string> names;
    for (const Field& f : s.fields()) names.emplace_back(f.name);
    EXPECT_EQ(names, (std::vector<std::string>{"Package", "Depends", "Description", "Version"}));
}

TEST(AptDeb822, ReleaseHashListsReadLineByLine) {
    const std::string text =
        "Origin: Debian\n"
        "Suite: trixie\n"
        "SHA256:\n"
        " 0123abcd   1234 main/binary-amd64/Packages\n"
        " 4567ef01  56789 main/binary-amd64/Packages.xz\n";
    Stanza s = stanzas(text).at(0);
    std::vector<std::string> lines;
    for (std::string_view line : ValueLines(s.get("sha256"))) lines.emplace_back(line);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "0123abcd   1234 main/binary-amd64/Packages");
    EXPECT_EQ(lines[1], "4567ef01  56789 main/binary-amd64/Packages.xz");
}

TEST(AptDeb822, CommentsAreSkipped) {
    Stanza s = stanzas("# a comment\nSource: x\n# another\nSection: misc\n").at(0);
    EXPECT_EQ(s.get("Source"), "x");
    EXPECT_EQ(s.get("Section"), "misc");
}

TEST(AptDeb822, ViewsPointIntoTheText) {
    const std::string text = "Package: zero-copy\n";
    Stanza s = stanzas(text).at(0);
    std::string_view v = s.get("Package");
    EXPECT_GE(v.data(), text.data());
    EXPECT_LT(v.data(), text.data() + text.size());
}

TEST(AptDeb822, Trim) {
    EXPECT_EQ(trim("  a b \r\n"), "a b");
    EXPECT_EQ(trim(" \t\n"), "");
}

}  // namespace
}  // namespace dmc::apt
