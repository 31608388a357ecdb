#include <gtest/gtest.h>

#include "apt/relation.hpp"
#include "util/error.hpp"

namespace dmc::apt {
namespace {

TEST(AptRelation, ParsesAndOfOrGroups) {
    RelationList list = parse_relations(
        "libc6 (>= 2.34), default-mta | mail-transport-agent, perl:any, "
        "python3:native (<< 3.14), libfoo:arm64 (= 1:2.0-1)");
    ASSERT_EQ(list.size(), 5u);
    EXPECT_EQ(list[0], (OrGroup{{"libc6", "", RelationOp::GreaterEq, "2.34"}}));
    ASSERT_EQ(list[1].size(), 2u);
    EXPECT_EQ(list[1][0].name, "default-mta");
    EXPECT_EQ(list[1][1].name, "mail-transport-agent");
    EXPECT_EQ(list[1][1].op, RelationOp::None);
    EXPECT_EQ(list[2], (OrGroup{{"perl", "any", RelationOp::None, ""}}));
    EXPECT_EQ(list[3], (OrGroup{{"python3", "native", RelationOp::Less, "3.14"}}));
    EXPECT_EQ(list[4], (OrGroup{{"libfoo", "arm64", RelationOp::Equal, "1:2.0-1"}}));
}

TEST(AptRelation, ToleratesOddWhitespaceAndObsoleteOperators) {
    RelationList list = parse_relations("  a(<1.0) ,\n b ( >  2 )|c,");
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0][0].op, RelationOp::LessEq);
    EXPECT_EQ(list[0][0].version, "1.0");
    EXPECT_EQ(list[1][0].op, RelationOp::GreaterEq);
    EXPECT_EQ(list[1][0].version, "2");
    EXPECT_EQ(list[1][1].name, "c");
    EXPECT_TRUE(parse_relations("").empty());
    EXPECT_TRUE(parse_relations("  \n ").empty());
}

TEST(AptRelation, SkipsArchitectureRestrictionsAndBuildProfiles) {
    RelationList kept =
        parse_relations("a [amd64 arm64] <!nocheck>, b (>= 1) [!amd64] | c <stage1> <cross>");
    ASSERT_EQ(kept.size(), 2u);
    EXPECT_EQ(kept[0][0].name, "a");
    EXPECT_EQ(kept[1][0].name, "b");
    EXPECT_EQ(kept[1][0].version, "1");
    EXPECT_EQ(kept[1][1].name, "c");

    // With a host architecture, restrictions that exclude it drop the relation.
    RelationList on_amd64 = parse_relations("a [arm64], b [!amd64] | c, d [amd64]", "amd64");
    ASSERT_EQ(on_amd64.size(), 2u);
    EXPECT_EQ(on_amd64[0], (OrGroup{{"c", "", RelationOp::None, ""}}));
    EXPECT_EQ(on_amd64[1], (OrGroup{{"d", "", RelationOp::None, ""}}));
}

TEST(AptRelation, RejectsMalformedText) {
    EXPECT_THROW(parse_relations("a (>= )"), Error);
    EXPECT_THROW(parse_relations("a (~ 1)"), Error);
    EXPECT_THROW(parse_relations("a (>= 1"), Error);
    EXPECT_THROW(parse_relations("a, , b"), Error);
    EXPECT_THROW(parse_relations("| a"), Error);
    EXPECT_THROW(parse_relations("a [amd64"), Error);
    EXPECT_THROW(parse_relations("a:"), Error);
}

TEST(AptRelation, ViewsAvoidAllocation) {
    int relations = 0, groups = 0;
    bool ok = for_each_relation("a | b, c", [&](const RelationView& r, bool starts_group) {
        ++relations;
        groups += starts_group;
        EXPECT_FALSE(r.name.empty());
    });
    EXPECT_TRUE(ok);
    EXPECT_EQ(relations, 3);
    EXPECT_EQ(groups, 2);
    EXPECT_FALSE(for_each_relation("a (", [](const RelationView&, bool) {}));
}

TEST(AptRelation, PrintsDebianNotation) {
    Relation r{"libc6", "", RelationOp::GreaterEq, "2.34"};
    EXPECT_EQ(to_string(r), "libc6 (>= 2.34)");
    EXPECT_EQ(to_string(OrGroup{r, {"perl", "any", RelationOp::None, ""}}),
              "libc6 (>= 2.34) | perl:any");
}

}  // namespace
}  // namespace dmc::apt
