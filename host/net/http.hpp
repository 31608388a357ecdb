// HTTP(S) downloads with libcurl: connection reuse, parallel transfers, retries
// with backoff on transient failures, resuming partial downloads, and SHA-256
// checks. Files are written to a temporary name and renamed into place when whole.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dmc::net {

struct HttpOptions {
    int retries = 4;             // extra attempts after a transient failure
    long retry_time_s = 60;      // no new attempt this long after a file's first one
    long backoff_ms = 500;       // first pause; doubles each attempt, up to 30 s
    long stall_timeout_s = 15;   // an attempt without a byte (or a connection) this long is abandoned
    long stall_notice_ms = 3000; // a notice that a server keeps dmc waiting comes after this
    int parallel = 4;
    std::string ca_bundle;       // extra CA file; TLS is always verified
    bool progress = false;       // a progress line on a terminal
};

// A response that arrived; status is the HTTP status (0 for file://).
struct Response {
    long status = 0;
    std::string body;
};

struct Download {
    std::string url;
    std::filesystem::path dest;
    std::optional<std::string> sha256;  // checked before the file is renamed into place
    std::optional<std::uint64_t> size;
    std::string label;                  // for messages: the package name, say
};

class Http {
public:
    explicit Http(HttpOptions options = {});
    ~Http();
    Http(const Http&) = delete;
    Http& operator=(const Http&) = delete;

    // GET into memory. A 404 or 410 gives nullopt; other failures throw Error
    // naming the URL, after the retries for transient ones.
    std::optional<std::string> get(const std::string& url);

    // Downloads all files, `parallel` at a time. Throws Error naming the first
    // file that could not be had whole and right; the others are kept.
    void fetch(const std::vector<Download>& downloads);

    // How many transfers and bytes went over the network (for tests and logs).
    std::uint64_t transfers() const { return transfers_; }
    std::uint64_t bytes() const { return bytes_; }

private:
    HttpOptions options_;
    void* share_;
    std::uint64_t transfers_ = 0;
    std::uint64_t bytes_ = 0;
};

// Whether a failure is worth another attempt: a curl error (CURLcode) such as a
// reset connection, or an HTTP status such as 429 or 503 (not 501 or 505).
bool transient_code(int curl_code);
bool transient_status(long status);
// The pause before another attempt: doubling from first_ms, at most 30 s.
std::chrono::milliseconds backoff(long first_ms, int attempt);

// The one retry rule: another attempt after `attempt` (0 for the first) failed for a
// transient reason, `elapsed` after the first one began, when both the count and
// the time allow it.
bool may_retry(const HttpOptions& options, int attempt, std::chrono::steady_clock::duration elapsed);

// scheme://host[:port] of a URL, lower-cased, for comparing origins.
std::string origin_of(const std::string& url);

}  // namespace dmc::net
