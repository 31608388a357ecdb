// HTTP(S) downloads with libcurl: connection reuse, parallel transfers, retries
// with backoff on transient failures, resuming partial downloads, and SHA-256
// checks. Files are written to a temporary name and renamed into place when whole.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/curl.hpp"
#include "net/retry.hpp"

namespace dmc::net {

struct HttpOptions {
    RetryPolicy retry;
    TransferOptions transfer{.protocols = "http,https,file"};
    int parallel = 4;
    bool progress = false;  // a progress line on a terminal
};

using BodySink = std::function<void(std::string_view)>;

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
    std::string label;  // for messages: the package name, say
};

class Http {
  public:
    explicit Http(HttpOptions options = {});
    ~Http();
    Http(const Http&) = delete;
    Http& operator=(const Http&) = delete;

    // GET into memory. A 404 or 410 gives nullopt; other failures throw Error
    // naming the URL, after the retries for transient ones. An answer longer than
    // max_bytes is cut off there and refused: an endless or huge body never fills
    // the memory.
    std::optional<std::string> get(const std::string& url,
                                   std::uint64_t max_bytes = std::uint64_t{1} << 30);
    // The same, handing the body to `sink` as it arrives (an index decoded while it
    // downloads) and returning false for a 404 or 410. Before each attempt after the
    // first, `restart` is called: what the sink had is void. What the sink throws
    // ends the transfer and is thrown again, with no retry.
    bool get_to(const std::string& url, std::uint64_t max_bytes, const BodySink& sink,
                const std::function<void()>& restart);

    // Downloads all files, `parallel` at a time. Throws Error naming the first
    // file that could not be had whole and right; the others are kept. A file with a
    // size is never written past it. `fetched(i)`, when given, is called on this
    // thread as soon as downloads[i] is in place, checked.
    void fetch(const std::vector<Download>& downloads,
               const std::function<void(std::size_t)>& fetched = {});

    // How fast the server of `url` (its scheme, host and port) sent the last body of
    // at least kRateSample bytes that get() or get_to() had from it, in bytes a second from the
    // body's first byte to its last; nullopt before one came.
    std::optional<double> rate(const std::string& url) const;
    static constexpr std::uint64_t kRateSample = std::uint64_t{64} << 10;
    // How many transfers and bytes went over the network (for tests and logs).
    std::uint64_t transfers() const { return transfers_; }
    std::uint64_t bytes() const { return bytes_; }

  private:
    HttpOptions options_;
    // get() may run on several threads at once (a mirror's suites are fetched
    // together): the share handle takes its locks, the counters are atomic.
    struct ShareLocks;
    std::unique_ptr<ShareLocks> locks_;
    void* share_;
    mutable std::mutex rates_mutex_;
    std::map<std::string, double> rates_;  // by origin
    std::atomic<std::uint64_t> transfers_{0};
    std::atomic<std::uint64_t> bytes_{0};
};

}  // namespace dmc::net
