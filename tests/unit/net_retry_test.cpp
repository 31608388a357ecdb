#include <curl/curl.h>
#include <gtest/gtest.h>

#include "net/retry.hpp"

namespace dmc::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(NetRetry, BoundedByCountAndByTime) {
    RetryPolicy p{.retries = 3, .backoff_ms = 500, .retry_time_s = 10};
    EXPECT_TRUE(p.allows(0, seconds(0), p.pause(0)));
    EXPECT_TRUE(p.allows(2, seconds(1), p.pause(2)));
    EXPECT_FALSE(p.allows(3, seconds(0), p.pause(3)));          // the count
    EXPECT_FALSE(p.allows(0, milliseconds(9600), p.pause(0)));  // the time, with the pause
    EXPECT_TRUE(p.allows(0, milliseconds(9400), p.pause(0)));
}

TEST(NetRetry, NoTimeBoundWhereTheTimeIsZero) {
    RetryPolicy registry{.retries = 4, .backoff_ms = 500, .retry_time_s = 0};
    EXPECT_TRUE(registry.allows(1, std::chrono::minutes(30), milliseconds(60000)));
    EXPECT_FALSE(registry.allows(4, seconds(0), registry.pause(4)));
}

TEST(NetRetry, PausesDoubleUpToThirtySeconds) {
    EXPECT_EQ(backoff(500, 0), milliseconds(500));
    EXPECT_EQ(backoff(500, 3), milliseconds(4000));
    EXPECT_EQ(backoff(500, 12), milliseconds(30000));
}

TEST(NetRetry, TransientFailures) {
    EXPECT_TRUE(transient_status(503));
    EXPECT_TRUE(transient_status(429));
    EXPECT_FALSE(transient_status(501));
    EXPECT_FALSE(transient_status(404));
    EXPECT_TRUE(transient_code(CURLE_COULDNT_CONNECT));
    EXPECT_FALSE(transient_code(CURLE_SSL_CACERT_BADFILE));
    EXPECT_FALSE(transient_code(CURLE_UNSUPPORTED_PROTOCOL));
}

}  // namespace
}  // namespace dmc::net
