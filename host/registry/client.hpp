// The HTTP side of the OCI distribution protocol over libcurl: the /v2/ ping
// that picks HTTPS (or plain HTTP where allowed) and learns how to
// authenticate, anonymous, Basic and Bearer token authentication with tokens
// per scope, retries with backoff, and redirects that never carry credentials
// to another origin.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "log/log.hpp"
#include "net/curl.hpp"
#include "net/retry.hpp"
#include "registry/auth.hpp"
#include "registry/reference.hpp"

namespace dmc::registry {

// The Accept header of a manifest request: OCI's and Docker's manifests and indexes.
inline constexpr const char* manifest_accept =
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

struct ClientOptions {
    Registry registry;
    std::vector<std::string> insecure;       // registries allowed plain HTTP
    std::string ca_bundle;                   // extra CA file; TLS is always verified
    std::optional<Credentials> credentials;  // nullopt: anonymous
    // The archive's rule, with Retry-After on top and no bound in time: an upload may
    // rightly take long, and a registry may ask for a minute's pause.
    net::RetryPolicy retry{.retry_time_s = 0};
    long stall_timeout_s = 60;  // an upload or answer without progress this long fails
};

// A request body: in memory, or `length` bytes of `file` from `offset`.
struct Body {
    std::string data;
    std::filesystem::path file;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::uint64_t size() const { return file.empty() ? data.size() : length; }
};

struct Request {
    std::string method = "GET";
    std::string url;                   // absolute, or a path on the registry ("/v2/...")
    std::vector<std::string> headers;  // "Name: value"
    std::optional<Body> body;          // methods with a body send Content-Length
    std::vector<std::string> scopes;   // token scopes, e.g. "repository:a/b:pull,push"
};

struct Reply {
    int curl_code = 0;  // CURLcode; 0 when an HTTP answer arrived
    std::string error;  // curl's message when curl_code != 0
    long status = 0;
    std::map<std::string, std::string> headers;  // lower-cased names; repeats joined by ", "
    std::string body;
    std::string url;       // the URL that answered, after redirects
    bool stalled = false;  // given up: nothing moved for stall_timeout_s
    std::string header(const std::string& name) const;
    bool ok() const { return curl_code == 0 && status >= 200 && status < 300; }
};

// Writes a log line from any thread (uploads run in parallel).
void log_line(log::Level level, const std::string& message);

// Whether a failure is worth another attempt: 429, 5xx, connection resets and
// timeouts.
bool transient(const Reply& reply);

// The registry's error document ({"errors":[{"code","message"}]}) in one line,
// or "HTTP <status>", or curl's message.
std::string describe(const Reply& reply);

// The Authorization header to send with a request to `url` that was meant for
// `origin_url`: the header itself when both have the same origin, else "": a
// redirect to another host never gets the credentials.
std::string authorization_for(const std::string& url, const std::string& origin_url,
                              const std::string& authorization);

class Client {
  public:
    explicit Client(ClientOptions options);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // GET /v2/: picks the scheme and the authentication. Throws Error saying
    // what is wrong: unreachable, untrusted certificate, plain HTTP refused,
    // not a registry.
    void ping();

    // One request with authentication, redirects and retries. Thread-safe.
    // Answers (also 4xx) are returned; only a 401 that survives a fresh token
    // throws, with a message about the credentials.
    Reply send(const Request& request);

    std::string url(const std::string& path) const { return base_ + path; }
    const Registry& registry() const { return options_.registry; }
    std::uint64_t requests() const { return requests_; }

  private:
    // `authorization` goes only to URLs of the same origin as `credential_origin`.
    // `probe`: only to learn whether the server speaks TLS at all; no
    // certificate is checked (so no CA store is loaded) and nothing but the
    // credential-less ping is ever sent that way.
    Reply perform(const Request& request, const std::string& authorization,
                  const std::string& credential_origin, bool probe = false);
    Reply send_with_retries(const Request& request, const std::string& authorization,
                            const std::string& credential_origin);
    std::string authorization(const std::vector<std::string>& scopes, bool refresh);
    void learn(const Reply& reply);
    std::string fetch_token(const Challenge& challenge, const std::vector<std::string>& scopes);
    [[noreturn]] void refused(const Reply& reply) const;
    net::EasyHandle acquire();
    void release(net::EasyHandle handle);

    ClientOptions options_;
    std::string base_;  // scheme://endpoint
    std::atomic<std::uint64_t> requests_{0};

    std::mutex mutex_;                      // guards what follows
    std::vector<net::EasyHandle> handles_;  // idle curl handles, for connection reuse
    std::optional<Challenge> challenge_;    // how the registry wants to be authenticated
    struct CachedToken {
        std::string token;
        std::chrono::steady_clock::time_point expires;
    };
    std::map<std::string, CachedToken> tokens_;  // by the joined scopes
};

}  // namespace dmc::registry
