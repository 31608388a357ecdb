#include "net/retry.hpp"

#include <curl/curl.h>

#include <algorithm>

namespace dmc::net {

std::chrono::milliseconds backoff(long first_ms, int attempt) {
    return std::chrono::milliseconds(std::min(first_ms << std::min(attempt, 6), 30000L));
}

std::chrono::milliseconds RetryPolicy::pause(int attempt) const {
    return backoff(backoff_ms, attempt);
}

bool RetryPolicy::allows(int attempt, std::chrono::steady_clock::duration elapsed,
                         std::chrono::milliseconds wait) const {
    return attempt < retries &&
           (retry_time_s == 0 || elapsed + wait < std::chrono::seconds(retry_time_s));
}

bool transient_status(long status) {
    return status == 408 || status == 429 || (status >= 500 && status != 501 && status != 505);
}

bool transient_code(int curl_code) {
    switch (static_cast<CURLcode>(curl_code)) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_COULDNT_RESOLVE_HOST:
            return true;
        default:
            return false;
    }
}

}  // namespace dmc::net
