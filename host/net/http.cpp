#include "net/http.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "log/log.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dmc::net {
namespace {

using Clock = std::chrono::steady_clock;

std::string seconds_since(Clock::time_point start) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s",
                  std::chrono::duration<double>(Clock::now() - start).count());
    return buf;
}

std::string attempts_text(int attempt, Clock::time_point start) {
    return " after " + std::to_string(attempt + 1) + (attempt ? " attempts" : " attempt") + " in " +
           seconds_since(start);
}

void configure_handle(CURL* h, const HttpOptions& o, void* share) {
    set_common_options(h, o.transfer);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_SHARE, share);
}

// A body handed on as it comes, up to a limit; past it, or when the sink throws,
// the transfer stops (CURLE_WRITE_ERROR).
struct Body {
    CURL* handle = nullptr;
    const BodySink* sink = nullptr;
    std::uint64_t size = 0;
    std::uint64_t max = 0;
    bool over = false;
    std::exception_ptr failure;  // what the sink threw
};

size_t hand_on(char* data, size_t size, size_t n, void* user) {
    auto* body = static_cast<Body*>(user);
    if (body->size + size * n > body->max) {
        body->over = true;
        return 0;
    }
    body->size += size * n;
    long status = 0;
    curl_easy_getinfo(body->handle, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 400) return size * n;  // an error's body is not the file
    try {
        (*body->sink)(std::string_view(data, size * n));
    } catch (...) {
        body->failure = std::current_exception();
        return 0;
    }
    return size * n;
}

struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
};

// One file transfer in flight; its handle and file are released with it.
struct Transfer {
    const Download* download = nullptr;
    fs::path part;
    std::unique_ptr<FILE, FileCloser> file;
    std::uint64_t resumed_from = 0;
    std::uint64_t written = 0;  // by this attempt
    bool over = false;          // more arrived than the download's size
    int write_errno = 0;        // the .part file could not be written
    int attempt = 0;
    std::chrono::steady_clock::time_point not_before{};
    std::chrono::steady_clock::time_point first_started{};  // of the first attempt
    EasyHandle handle;
    StallWatch stall;
};

size_t write_to_file(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    // The body of an error answer (a 500 page, say) is not part of the file: kept in
    // the .part file, the next attempt would resume after it.
    long status = 0;
    curl_easy_getinfo(t->handle.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300) return size * n;
    if (t->download->size && t->resumed_from + t->written + size * n > *t->download->size) {
        t->over = true;
        return 0;
    }
    t->written += size * n;
    const size_t written = std::fwrite(data, size, n, t->file.get()) * size;
    if (written < size * n) t->write_errno = errno;
    return written;
}

std::string human_bytes(double bytes) {
    char buf[32];
    if (bytes >= 1e6)
        std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.0f kB", bytes / 1e3);
    return buf;
}

}  // namespace

struct Http::ShareLocks {
    std::mutex of[CURL_LOCK_DATA_LAST];
    static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
        static_cast<ShareLocks*>(self)->of[data].lock();
    }
    static void unlock(CURL*, curl_lock_data data, void* self) {
        static_cast<ShareLocks*>(self)->of[data].unlock();
    }
};

Http::Http(HttpOptions options)
    : options_(std::move(options)), locks_(std::make_unique<ShareLocks>()) {
    ensure_curl_global();
    CURLSH* share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &ShareLocks::lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &ShareLocks::unlock);
    curl_share_setopt(share, CURLSHOPT_USERDATA, locks_.get());
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    share_ = share;
}

Http::~Http() { curl_share_cleanup(static_cast<CURLSH*>(share_)); }

std::optional<std::string> Http::get(const std::string& url, std::uint64_t max_bytes) {
    std::string text;
    if (!get_to(
            url, max_bytes, [&](std::string_view bytes) { text.append(bytes); },
            [&] { text.clear(); }))
        return std::nullopt;
    return text;
}

bool Http::get_to(const std::string& url, std::uint64_t max_bytes, const BodySink& sink,
                  const std::function<void()>& restart) {
    EasyHandle handle = make_easy();
    CURL* h = handle.get();
    Body body;
    body.handle = h;
    body.sink = &sink;
    body.max = max_bytes;
    long status = 0;
    CURLcode code = CURLE_OK;
    char errbuf[CURL_ERROR_SIZE] = {0};
    StallWatch stall;
    const auto started = Clock::now();
    int attempt = 0;
    for (;; ++attempt) {
        if (attempt > 0) restart();
        body.size = 0;
        body.over = false;
        errbuf[0] = 0;
        curl_easy_reset(h);
        configure_handle(h, options_, share_);
        stall.attach(h, options_.transfer, url);
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, hand_on);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        code = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        ++transfers_;
        bytes_ += body.size;
        if (body.failure) std::rethrow_exception(body.failure);
        if (body.over)
            throw Error("cannot fetch " + url + ": the answer is longer than " +
                        std::to_string(max_bytes) +
                        " bytes, more than it can be; refusing it (the mirror is broken or "
                        "hostile)");
        const bool transient =
            stall.stalled() || (code != CURLE_OK ? transient_code(code) : transient_status(status));
        const auto pause = options_.retry.pause(attempt);
        if (!transient || !options_.retry.allows(attempt, Clock::now() - started, pause)) break;
        log::detail("retrying " + url + " (" + stall.failure(code, status, errbuf) + ")");
        std::this_thread::sleep_for(pause);
    }
    curl_off_t total_us = 0, first_byte_us = 0;
    if (code == CURLE_OK && status < 400 && body.size >= kRateSample &&
        curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK &&
        curl_easy_getinfo(h, CURLINFO_STARTTRANSFER_TIME_T, &first_byte_us) == CURLE_OK) {
        const double seconds =
            static_cast<double>(std::max<curl_off_t>(total_us - first_byte_us, 1)) / 1e6;
        const std::lock_guard lock(rates_mutex_);
        rates_[origin_of(url)] = static_cast<double>(body.size) / seconds;
    }
    if (code == CURLE_FILE_COULDNT_READ_FILE) return false;  // file:// that does not exist
    if (code == CURLE_OK && (status == 404 || status == 410)) return false;
    if (code != CURLE_OK || status >= 400)
        throw Error("cannot fetch " + url + ": " + stall.failure(code, status, errbuf) +
                    attempts_text(attempt, started));
    return true;
}

std::optional<double> Http::rate(const std::string& url) const {
    const std::lock_guard lock(rates_mutex_);
    auto it = rates_.find(origin_of(url));
    if (it == rates_.end()) return std::nullopt;
    return it->second;
}

void Http::fetch(const std::vector<Download>& downloads,
                 const std::function<void(std::size_t)>& fetched) {
    if (downloads.empty()) return;
    MultiHandle multi_handle = make_multi();
    CURLM* multi = multi_handle.get();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(options_.parallel));
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(options_.parallel));

    std::deque<Transfer> waiting;
    for (const auto& d : downloads) waiting.push_back(Transfer{&d});
    std::vector<Transfer*> active;
    std::deque<Transfer> running_storage;  // stable addresses for curl's user pointers
    // However fetch ends, the transfers in flight leave the multi handle before their
    // own handles go (with running_storage) and the multi handle itself (last).
    struct Detach {
        CURLM* multi;
        std::vector<Transfer*>& active;
        ~Detach() {
            for (Transfer* tr : active) curl_multi_remove_handle(multi, tr->handle.get());
        }
    } detach{multi, active};
    std::string first_error;
    int disk_errno = 0;  // a .part file that could not be written: the disk is full, say
    fs::path disk_path;
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
        tr->file.reset(std::fopen(tr->part.c_str(), tr->resumed_from ? "ab" : "wb"));
        if (!tr->file) write_failed(tr->part, errno);
        tr->handle = make_easy();
        CURL* h = tr->handle.get();
        if (tr->first_started == Clock::time_point{}) tr->first_started = Clock::now();
        configure_handle(h, options_, share_);
        tr->stall.attach(h, options_.transfer, tr->download->url);
        curl_easy_setopt(h, CURLOPT_URL, tr->download->url.c_str());
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_to_file);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, tr);
        curl_easy_setopt(h, CURLOPT_PRIVATE, tr);
        if (tr->resumed_from)
            curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE,
                             static_cast<curl_off_t>(tr->resumed_from));
        curl_multi_add_handle(multi, h);
        active.push_back(tr);
    };

    // Finishes one transfer; returns a reason to retry, or "" when done (or failed for good).
    auto finish = [&](Transfer* tr, CURLcode code) -> std::string {
        long status = 0;
        curl_easy_getinfo(tr->handle.get(), CURLINFO_RESPONSE_CODE, &status);
        if (tr->file && std::fflush(tr->file.get()) != 0 && tr->write_errno == 0)
            tr->write_errno = errno;
        tr->file.reset();
        ++transfers_;
        const auto& d = *tr->download;
        std::error_code ec;
        if (tr->write_errno != 0) {
            fs::remove(tr->part, ec);
            if (disk_errno == 0) {
                disk_errno = tr->write_errno;
                disk_path = tr->part;
            }
            return "";
        }
        if (tr->over) {
            fs::remove(tr->part, ec);
            if (first_error.empty())
                first_error = (d.label.empty() ? d.url : d.label) + ": more than the " +
                              std::to_string(*d.size) + " bytes the index gives arrived from " +
                              d.url + "; the mirror is broken or hostile, nothing was kept";
            return "";
        }
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
            std::string why = tr->stall.failure(code, status, nullptr);
            if (tr->stall.stalled() || (code != CURLE_OK && transient_code(code)) ||
                (code == CURLE_OK && transient_status(status)))
                return why;
            fs::remove(tr->part, ec);
            if (first_error.empty())
                first_error = "cannot fetch " + d.url + ": " + why +
                              attempts_text(tr->attempt, tr->first_started);
            return "";
        }
        const auto size = fs::file_size(tr->part, ec);
        bytes_ += size - tr->resumed_from;
        if (d.size && size < *d.size)
            return "truncated (" + std::to_string(size) + " of " + std::to_string(*d.size) +
                   " bytes)";
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
        if (ec) {
            if (first_error.empty())
                first_error = "cannot write " + d.dest.string() + ": " + ec.message();
            return "";
        }
        done_bytes += size;
        ++done_files;
        log::detail("fetched " + d.url);
        if (fetched) fetched(static_cast<std::size_t>(&d - downloads.data()));
        return "";
    };

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
            curl_multi_remove_handle(multi, tr->handle.get());
            active.erase(std::find(active.begin(), active.end(), tr));
            const std::string retry = finish(tr, code);
            tr->handle.reset();
            if (!retry.empty()) {
                const auto pause = options_.retry.pause(tr->attempt);
                if (!options_.retry.allows(tr->attempt, Clock::now() - tr->first_started, pause)) {
                    if (first_error.empty())
                        first_error = "cannot fetch " + tr->download->url + ": " + retry +
                                      attempts_text(tr->attempt, tr->first_started);
                } else {
                    log::detail("retrying " + tr->download->url + ": " + retry);
                    Transfer again{tr->download};
                    again.attempt = tr->attempt + 1;
                    again.first_started = tr->first_started;
                    again.stall = tr->stall;  // one notice a file
                    again.not_before = Clock::now() + pause;
                    waiting.push_back(std::move(again));
                }
            }
        }
        if (show_progress && now - last_progress > std::chrono::milliseconds(100)) {
            last_progress = now;
            const double secs = std::chrono::duration<double>(now - started).count();
            std::fprintf(
                stderr, "\r\033[Kfetching %zu/%zu packages, %s/%s, %s/s", done_files,
                downloads.size(), human_bytes(static_cast<double>(done_bytes)).c_str(),
                human_bytes(static_cast<double>(total_bytes)).c_str(),
                human_bytes(secs > 0 ? static_cast<double>(done_bytes) / secs : 0).c_str());
        }
        if (!active.empty())
            curl_multi_poll(multi, nullptr, 0, 100, nullptr);
        else if (!waiting.empty())
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (Transfer* tr : active) curl_multi_remove_handle(multi, tr->handle.get());
    active.clear();
    running_storage.clear();  // every handle and file closed before the .part files go
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
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    log::info("fetched " + std::to_string(done_files) + " files, " +
              human_bytes(static_cast<double>(done_bytes)) + " in " +
              std::to_string(secs).substr(0, 4) + " s");
    if (disk_errno != 0) write_failed(disk_path, disk_errno);
    if (!first_error.empty()) throw Error(first_error);
}

}  // namespace dmc::net
