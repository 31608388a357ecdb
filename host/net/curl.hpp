// What every libcurl transfer of dmc shares, for the archive client (net/http) and
// the registry client alike: handles that clean up after themselves, one set of
// options (TLS always verified, the protocols dmc speaks, a user agent), and the
// watch that gives up on a server that stops sending.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>

namespace dmc::net {

void ensure_curl_global();

struct EasyDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
EasyHandle make_easy();  // throws Error when libcurl cannot make one

struct MultiDeleter {
    void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;
MultiHandle make_multi();  // throws Error when libcurl cannot make one

struct HeaderListDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
// Request headers; append with add().
class HeaderList {
  public:
    void add(const std::string& header) {
        list_.reset(curl_slist_append(list_.release(), header.c_str()));
    }
    curl_slist* get() const { return list_.get(); }

  private:
    std::unique_ptr<curl_slist, HeaderListDeleter> list_;
};

struct TransferOptions {
    std::string ca_bundle;   // an extra CA file; TLS is always verified
    bool verify_tls = true;  // false only for the registry's scheme probe
    const char* protocols = "http,https";
    long stall_timeout_s = 15;    // no byte (or no connection) this long: give up the attempt
    long stall_notice_ms = 3000;  // a notice that a server keeps dmc waiting, after this
};

// Sets what every transfer shares on a fresh (or reset) handle.
void set_common_options(CURL* h, const TransferOptions& options);

// Watches one attempt through libcurl's progress callback, which runs about once a
// second even when nothing arrives: a notice when the server keeps dmc waiting, and
// the end of the attempt (CURLE_ABORTED_BY_CALLBACK) when it sent nothing for
// stall_timeout_s. One notice a URL, however many attempts.
class StallWatch {
  public:
    void attach(CURL* h, const TransferOptions& options, const std::string& url);
    bool stalled() const { return stalled_; }
    // Why the attempt failed, in words; a stall is named as such.
    std::string failure(CURLcode code, long status, const char* errbuf) const;

  private:
    static int on_progress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow);
    const TransferOptions* options_ = nullptr;
    std::string url_;
    std::chrono::steady_clock::time_point last_{};
    curl_off_t seen_ = -1;
    bool noticed_ = false;
    bool stalled_ = false;
};

// scheme://host[:port] of a URL, lower-cased, for comparing origins.
std::string origin_of(const std::string& url);

}  // namespace dmc::net
