#include "build/pipeline.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace dmc::build {
namespace {

TEST(LockFile, NameVersionLines) {
    auto pins = parse_lock_file("# pinned\nnginx 1.26.3-3\nlibc6=2.41-12 # trailing\n\n", "x.lock");
    EXPECT_EQ(pins.size(), 2u);
    EXPECT_EQ(pins["nginx"], "1.26.3-3");
    EXPECT_EQ(pins["libc6"], "2.41-12");
}

TEST(LockFile, MalformedLineNamesTheLine) {
    try {
        parse_lock_file("nginx 1\ncurl\n", "x.lock");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("x.lock:2"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace dmc::build
