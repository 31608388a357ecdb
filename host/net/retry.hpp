// The one rule for trying a request again, for the archive and the registry alike:
// only after a transient failure, with a doubling pause capped at 30 s, at most
// `retries` more times and not past `retry_time_s` after the first attempt.
#pragma once

#include <chrono>

namespace dmc::net {

struct RetryPolicy {
    int retries = 4;         // extra attempts after a transient failure
    long backoff_ms = 500;   // the first pause; doubles each attempt, up to 30 s
    long retry_time_s = 60;  // no new attempt this long after the first one; 0: no bound

    // Another attempt after attempt `attempt` (0: the first) failed for a transient
    // reason, `elapsed` after the first one began, with `pause` to wait before it.
    bool allows(int attempt, std::chrono::steady_clock::duration elapsed,
                std::chrono::milliseconds pause) const;
    std::chrono::milliseconds pause(int attempt) const;
};

// Whether a failure is worth another attempt: a curl error (CURLcode) such as a
// reset connection, or an HTTP status such as 429 or 503 (not 501 or 505). A stall
// (net/curl.hpp's StallWatch) is one too; its callers say so.
bool transient_code(int curl_code);
bool transient_status(long status);
// The pause before another attempt: doubling from first_ms, at most 30 s.
std::chrono::milliseconds backoff(long first_ms, int attempt);

}  // namespace dmc::net
