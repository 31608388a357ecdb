#include <gtest/gtest.h>

#include "util/error.hpp"
#include "util/name.hpp"

namespace dmc {
namespace {

TEST(UtilName, SafeNamesAreSinglePathComponents) {
    for (const char* good : {"trixie", "bookworm-security", "amd64", "hello_2", "1.0+b1", "x~y"})
        EXPECT_FALSE(unsafe_name(good)) << good;
    for (const char* bad :
         {"", ".", "..", "../x", "/abs", "a/b", ".hidden", "-flag", "a b", "tri\nxie", "a\x7f"})
        EXPECT_TRUE(unsafe_name(bad)) << bad;
    EXPECT_TRUE(unsafe_name(std::string(65, 'a')));
    EXPECT_THROW(check_name("dist", "../x"), UsageError);
}

TEST(UtilName, ChildPathNeverLeavesItsDirectory) {
    EXPECT_EQ(child_path("/build", "nginx-amd64.docker.tar"), "/build/nginx-amd64.docker.tar");
    for (const char* bad : {"", ".", "..", "a/b", "/etc", "x\ny"})
        EXPECT_THROW(child_path("/build", bad), Error) << bad;
}

TEST(UtilName, QuotedValuesShowControlCharacters) {
    EXPECT_EQ(quote_value("a\nb\x01"), "'a\\nb\\x01'");
}

}  // namespace
}  // namespace dmc
