#include "net/http.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <thread>

#include "log/log.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dmc::net {
namespace {

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~CurlGlobal() { curl_global_cleanup(); }
};

void ensure_global() { static CurlGlobal global; }

}  // namespace

std::chrono::milliseconds backoff(long first_ms, int attempt) {
    return std::chrono::milliseconds(std::min(first_ms << std::min(attempt, 6), 30000L));
}

bool transient_status(long status) {
    return status == 408 || status == 429 || (status >= 500 && status != 501 && status != 505);
}

bool transient_code(int curl_code) {
    const auto code = static_cast<CURLcode>(curl_code);
    switch (code) {
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

bool may_retry(const HttpOptions& o, int attempt, std::chrono::steady_clock::duration elapsed) {
    return attempt < o.retries &&
           elapsed + backoff(o.backoff_ms, attempt) < std::chrono::seconds(o.retry_time_s);
}

namespace {

using Clock = std::chrono::steady_clock;

// Watches one attempt through libcurl's progress callback, which runs about once a
// second even when nothing arrives: a notice when the server keeps dmc waiting, and
// the end of the attempt when it has sent nothing for stall_timeout_s.
struct StallWatch {
    const HttpOptions* options = nullptr;
    std::string url;
    Clock::time_point last = Clock::now();
    curl_off_t seen = -1;
    bool noticed = false;
    bool stalled = false;
};

int watch_progress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
    auto* w = static_cast<StallWatch*>(user);
    const curl_off_t moved = dlnow + ulnow;
    const auto now = Clock::now();
    if (moved != w->seen) {
        w->seen = moved;
        w->last = now;
        return 0;
    }
    const auto quiet = now - w->last;
    // The notice comes after a few seconds, and well before the attempt is given up.
    const auto notice_after = std::min<long>(w->options->stall_notice_ms, w->options->stall_timeout_s * 500);
    if (!w->noticed && quiet >= std::chrono::milliseconds(notice_after)) {
        w->noticed = true;
        log::notice("waiting for " + redact_credentials(origin_of(w->url)) + ": nothing received for " +
                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(quiet).count()) +
                    " s (giving up after " + std::to_string(w->options->stall_timeout_s) +
                    " s, retrying for " + std::to_string(w->options->retry_time_s) + " s in all)");
    }
    if (quiet >= std::chrono::seconds(w->options->stall_timeout_s)) {
        w->stalled = true;
        return 1;  // CURLE_ABORTED_BY_CALLBACK
    }
    return 0;
}

void watch(CURL* h, StallWatch& w, const HttpOptions& o, const std::string& url) {
    const bool noticed = w.noticed && w.url == url;  // one notice a file, not one an attempt
    w = StallWatch{};
    w.noticed = noticed;
    w.options = &o;
    w.url = url;
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, watch_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &w);
}

// Why an attempt failed, in words; a stall is named as such.
std::string failure_of(CURLcode code, long status, const StallWatch& w, const char* errbuf) {
    if (w.stalled) return "nothing received for " + std::to_string(w.options->stall_timeout_s) + " s";
    if (code != CURLE_OK) return errbuf != nullptr && errbuf[0] ? errbuf : curl_easy_strerror(code);
    return "HTTP " + std::to_string(status);
}

std::string seconds_since(Clock::time_point start) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(Clock::now() - start).count());
    return buf;
}

std::string attempts_text(int attempt, Clock::time_point start) {
    return " after " + std::to_string(attempt + 1) + (attempt ? " attempts" : " attempt") + " in " +
           seconds_since(start);
}

void configure_handle(CURL* h, const HttpOptions& o, void* share) {
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o.stall_timeout_s);
    // Only what dmc means to speak, also after a redirect; anything else fails at once.
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "dmc/" DMC_VERSION);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!o.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, o.ca_bundle.c_str());
    curl_easy_setopt(h, CURLOPT_SHARE, share);
}

size_t append_to_string(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

// One file transfer in flight.
struct Transfer {
    const Download* download = nullptr;
    fs::path part;
    FILE* file = nullptr;
    std::uint64_t resumed_from = 0;
    int attempt = 0;
    std::chrono::steady_clock::time_point not_before{};
    std::chrono::steady_clock::time_point first_started{};  // of the first attempt
    CURL* handle = nullptr;
    StallWatch stall;
};

size_t write_to_file(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    // The body of an error answer (a 500 page, say) is not part of the file: kept in
    // the .part file, the next attempt would resume after it.
    long status = 0;
    curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300) return size * n;
    return std::fwrite(data, size, n, t->file) * size;
}

std::string human_bytes(double bytes) {
    char buf[32];
    if (bytes >= 1e6) std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
    else std::snprintf(buf, sizeof buf, "%.0f kB", bytes / 1e3);
    return buf;
}

}  // namespace

std::string origin_of(const std::string& url) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return "";
    return lower(url.substr(0, url.find('/', scheme_end + 3)));
}

Http::Http(HttpOptions options) : options_(std::move(options)) {
    ensure_global();
    CURLSH* share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    share_ = share;
}

Http::~Http() { curl_share_cleanup(static_cast<CURLSH*>(share_)); }

std::optional<std::string> Http::get(const std::string& url) {
    CURL* h = curl_easy_init();
    if (h == nullptr) throw Error("cannot initialise libcurl");
    std::string body;
    long status = 0;
    CURLcode code = CURLE_OK;
    char errbuf[CURL_ERROR_SIZE] = {0};
    StallWatch stall;
    const auto started = Clock::now();
    int attempt = 0;
    for (;; ++attempt) {
        body.clear();
        errbuf[0] = 0;
        curl_easy_reset(h);
        configure_handle(h, options_, share_);
        watch(h, stall, options_, url);
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_to_string);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        code = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        ++transfers_;
        bytes_ += body.size();
        const bool transient =
            stall.stalled || (code != CURLE_OK ? transient_code(code) : transient_status(status));
        if (!transient || !may_retry(options_, attempt, Clock::now() - started)) break;
        log::detail("retrying " + url + " (" + failure_of(code, status, stall, errbuf) + ")");
        std::this_thread::sleep_for(backoff(options_.backoff_ms, attempt));
    }
    curl_easy_cleanup(h);
    if (code == CURLE_FILE_COULDNT_READ_FILE) return std::nullopt;  // file:// that does not exist
    if (code == CURLE_OK && (status == 404 || status == 410)) return std::nullopt;
    if (code != CURLE_OK || status >= 400)
        throw Error("cannot fetch " + url + ": " + failure_of(code, status, stall, errbuf) +
                    attempts_text(attempt, started));
    return body;
}

void Http::fetch(const std::vector<Download>& downloads) {
    if (downloads.empty()) return;
    CURLM* multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(options_.parallel));
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(options_.parallel));

    std::deque<Transfer> waiting;
    for (const auto& d : downloads) waiting.push_back(Transfer{&d});
    std::vector<Transfer*> active;
    std::deque<Transfer> running_storage;  // stable addresses for curl's user pointers
    std::string first_error;
    std::uint64_t total_bytes = 0, done_bytes = 0;
    for (const auto& d : downloads) total_bytes += d.size.value_or(0);
    std::size_t done_files = 0;
    const auto started = std::chrono::steady_clock::now();
    auto last_progress = started;
    const bool show_progress = options_.progress && ::isatty(STDERR_FILENO);

    auto start = [&](Transfer t) {
        running_storage.push_back(std::move(t));
        Transfer* tr = &running_storage.back();
        fs::create_directories(tr->download->dest.parent_path());
        tr->part = tr->download->dest;
        tr->part += ".part";
        std::error_code ec;
        tr->resumed_from = fs::exists(tr->part, ec) ? fs::file_size(tr->part, ec) : 0;
        if (ec) tr->resumed_from = 0;
        tr->file = std::fopen(tr->part.c_str(), tr->resumed_from ? "ab" : "wb");
        if (tr->file == nullptr)
            throw Error("cannot write " + tr->part.string() + ": " + std::strerror(errno));
        tr->handle = curl_easy_init();
        if (tr->first_started == Clock::time_point{}) tr->first_started = Clock::now();
        configure_handle(tr->handle, options_, share_);
        watch(tr->handle, tr->stall, options_, tr->download->url);
        curl_easy_setopt(tr->handle, CURLOPT_URL, tr->download->url.c_str());
        curl_easy_setopt(tr->handle, CURLOPT_WRITEFUNCTION, write_to_file);
        curl_easy_setopt(tr->handle, CURLOPT_WRITEDATA, tr);
        curl_easy_setopt(tr->handle, CURLOPT_PRIVATE, tr);
        if (tr->resumed_from)
            curl_easy_setopt(tr->handle, CURLOPT_RESUME_FROM_LARGE,
                             static_cast<curl_off_t>(tr->resumed_from));
        curl_multi_add_handle(multi, tr->handle);
        active.push_back(tr);
    };

    // Finishes one transfer; returns a reason to retry, or "" when done (or failed for good).
    auto finish = [&](Transfer* tr, CURLcode code) -> std::string {
        long status = 0;
        curl_easy_getinfo(tr->handle, CURLINFO_RESPONSE_CODE, &status);
        std::fclose(tr->file);
        tr->file = nullptr;
        ++transfers_;
        const auto& d = *tr->download;
        std::error_code ec;
        if (code == CURLE_OK && status == 200 && tr->resumed_from) {
            // The server ignored the range: what we appended is a whole new copy.
            fs::remove(tr->part, ec);
            return "server does not resume";
        }
        if (code == CURLE_RANGE_ERROR || status == 416) {
            fs::remove(tr->part, ec);
            return "cannot resume";
        }
        if (code != CURLE_OK || status >= 400) {
            std::string why = failure_of(code, status, tr->stall, nullptr);
            if (tr->stall.stalled || (code != CURLE_OK && transient_code(code)) ||
                (code == CURLE_OK && transient_status(status)))
                return why;
            fs::remove(tr->part, ec);
            if (first_error.empty())
                first_error = "cannot fetch " + d.url + ": " + why + attempts_text(tr->attempt, tr->first_started);
            return "";
        }
        const auto size = fs::file_size(tr->part, ec);
        bytes_ += size - tr->resumed_from;
        if (d.size && size < *d.size) return "truncated (" + std::to_string(size) + " of " +
                                             std::to_string(*d.size) + " bytes)";
        if (d.sha256) {
            const auto actual = sha256_file(tr->part);
            if (actual != *d.sha256 || (d.size && size != *d.size)) {
                fs::remove(tr->part, ec);
                if (first_error.empty())
                    first_error = (d.label.empty() ? d.url : d.label) +
                                  ": SHA256 mismatch (expected " + *d.sha256 + ", got " + actual +
                                  "); the mirror or the cache is corrupt, nothing was kept";
                return "";
            }
        }
        fs::rename(tr->part, d.dest, ec);
        if (ec && first_error.empty()) first_error = "cannot write " + d.dest.string() + ": " + ec.message();
        done_bytes += size;
        ++done_files;
        log::detail("fetched " + d.url);
        return "";
    };

    try {
        while ((!waiting.empty() || !active.empty()) && first_error.empty()) {
            const auto now = std::chrono::steady_clock::now();
            while (static_cast<int>(active.size()) < options_.parallel && !waiting.empty() &&
                   waiting.front().not_before <= now) {
                Transfer t = std::move(waiting.front());
                waiting.pop_front();
                start(std::move(t));
            }
            int still = 0;
            curl_multi_perform(multi, &still);
            int queued = 0;
            while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
                if (msg->msg != CURLMSG_DONE) continue;
                Transfer* tr = nullptr;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&tr));
                const CURLcode code = msg->data.result;
                curl_multi_remove_handle(multi, tr->handle);
                const std::string retry = finish(tr, code);
                curl_easy_cleanup(tr->handle);
                tr->handle = nullptr;
                active.erase(std::find(active.begin(), active.end(), tr));
                if (!retry.empty()) {
                    if (!may_retry(options_, tr->attempt, Clock::now() - tr->first_started)) {
                        if (first_error.empty())
                            first_error = "cannot fetch " + tr->download->url + ": " + retry +
                                          attempts_text(tr->attempt, tr->first_started);
                    } else {
                        log::detail("retrying " + tr->download->url + ": " + retry);
                        Transfer again{tr->download};
                        again.attempt = tr->attempt + 1;
                        again.first_started = tr->first_started;
                        again.stall.noticed = tr->stall.noticed;
                        again.stall.url = tr->stall.url;
                        again.not_before = std::chrono::steady_clock::now() +
                                           backoff(options_.backoff_ms, tr->attempt);
                        waiting.push_back(std::move(again));
                    }
                }
            }
            if (show_progress && now - last_progress > std::chrono::milliseconds(100)) {
                last_progress = now;
                const double secs = std::chrono::duration<double>(now - started).count();
                std::fprintf(stderr, "\r\033[Kfetching %zu/%zu packages, %s/%s, %s/s", done_files,
                             downloads.size(), human_bytes(static_cast<double>(done_bytes)).c_str(),
                             human_bytes(static_cast<double>(total_bytes)).c_str(),
                             human_bytes(secs > 0 ? static_cast<double>(done_bytes) / secs : 0).c_str());
            }
            if (!active.empty()) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
            else if (!waiting.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    } catch (...) {
        for (Transfer* tr : active) {
            curl_multi_remove_handle(multi, tr->handle);
            curl_easy_cleanup(tr->handle);
            if (tr->file) std::fclose(tr->file);
        }
        curl_multi_cleanup(multi);
        throw;
    }
    for (Transfer* tr : active) {
        curl_multi_remove_handle(multi, tr->handle);
        curl_easy_cleanup(tr->handle);
        if (tr->file) std::fclose(tr->file);
    }
    curl_multi_cleanup(multi);
    if (show_progress) std::fprintf(stderr, "\r\033[K");
    if (!first_error.empty()) {
        // Leave no partial file behind: what was not had whole is fetched afresh next time.
        std::error_code ec;
        for (const auto& d : downloads) {
            fs::path part = d.dest;
            part += ".part";
            fs::remove(part, ec);
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    log::info("fetched " + std::to_string(done_files) + " files, " +
              human_bytes(static_cast<double>(done_bytes)) + " in " + std::to_string(secs).substr(0, 4) + " s");
    if (!first_error.empty()) throw Error(first_error);
}

}  // namespace dmc::net
