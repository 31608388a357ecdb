#include "net/curl.hpp"

#include <algorithm>

#include "log/log.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace dmc::net {

void ensure_curl_global() {
    static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
    if (!done) throw Error("cannot initialise libcurl");
}

EasyHandle make_easy() {
    ensure_curl_global();
    EasyHandle h(curl_easy_init());
    if (!h) throw Error("cannot initialise libcurl");
    return h;
}

MultiHandle make_multi() {
    ensure_curl_global();
    MultiHandle m(curl_multi_init());
    if (!m) throw Error("cannot initialise libcurl");
    return m;
}

void set_common_options(CURL* h, const TransferOptions& o) {
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "dmc/" DMC_VERSION);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o.stall_timeout_s);
    // Only what dmc means to speak, also after a redirect; anything else fails at once.
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, o.protocols);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (o.verify_tls) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (!o.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, o.ca_bundle.c_str());
    } else {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(h, CURLOPT_CAINFO, nullptr);
        curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
    }
}

void StallWatch::attach(CURL* h, const TransferOptions& o, const std::string& url) {
    noticed_ = noticed_ && url_ == url;
    options_ = &o;
    url_ = url;
    last_ = std::chrono::steady_clock::now();
    seen_ = -1;
    stalled_ = false;
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, this);
}

int StallWatch::on_progress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t,
                            curl_off_t ulnow) {
    auto* w = static_cast<StallWatch*>(user);
    const curl_off_t moved = dlnow + ulnow;
    const auto now = std::chrono::steady_clock::now();
    if (moved != w->seen_) {
        w->seen_ = moved;
        w->last_ = now;
        return 0;
    }
    const auto quiet = now - w->last_;
    // The notice comes after a few seconds, and well before the attempt is given up.
    const long notice_after =
        std::min<long>(w->options_->stall_notice_ms, w->options_->stall_timeout_s * 500);
    if (!w->noticed_ && quiet >= std::chrono::milliseconds(notice_after)) {
        w->noticed_ = true;
        try {
            log::notice(
                "waiting for " + redact_credentials(origin_of(w->url_)) +
                ": nothing received for " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(quiet).count()) +
                " s (giving up after " + std::to_string(w->options_->stall_timeout_s) + " s)");
        } catch (...) {
        }
    }
    if (quiet >= std::chrono::seconds(w->options_->stall_timeout_s)) {
        w->stalled_ = true;
        return 1;
    }
    return 0;
}

std::string StallWatch::failure(CURLcode code, long status, const char* errbuf) const {
    if (stalled_) return "nothing received for " + std::to_string(options_->stall_timeout_s) + " s";
    if (code != CURLE_OK) return errbuf != nullptr && errbuf[0] ? errbuf : curl_easy_strerror(code);
    return "HTTP " + std::to_string(status);
}

std::string origin_of(const std::string& url) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return "";
    return lower(url.substr(0, url.find('/', scheme_end + 3)));
}

}  // namespace dmc::net
