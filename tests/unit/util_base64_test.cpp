#include <gtest/gtest.h>

#include "util/base64.hpp"

using dmc::base64_decode;
using dmc::base64_encode;

TEST(UtilBase64, EncodesWithPadding) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("user:pa ss"), "dXNlcjpwYSBzcw==");
}

TEST(UtilBase64, DecodesBothAlphabetsAndRefusesOthers) {
    EXPECT_EQ(*base64_decode("dXNlcjpwYSBzcw=="), "user:pa ss");
    EXPECT_EQ(*base64_decode("Zm8"), "fo");
    EXPECT_EQ(*base64_decode("-_8="), *base64_decode("+/8="));
    EXPECT_EQ(*base64_decode("Zm9v\nYmFy"), "foobar");
    EXPECT_FALSE(base64_decode("**").has_value());
}
