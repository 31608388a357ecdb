#include "registry/client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "log/log.hpp"
#include "net/http.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

using nlohmann::json;

namespace dmc::registry {
namespace {

std::string trim(std::string s) {
    while (!s.empty() &&
           (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t'))
        s.pop_back();
    std::size_t b = 0;
    while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
    return s.substr(b);
}

// URLs in messages lose their query: upload locations may carry signed state.
std::string without_query(const std::string& url) { return url.substr(0, url.find('?')); }

// Curl's view of one exchange.
struct Exchange {
    Reply* reply = nullptr;
    const Body* body = nullptr;
    int fd = -1;
    std::uint64_t pos = 0;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* x = static_cast<Exchange*>(user);
    const std::string line(data, size * n);
    if (line.starts_with("HTTP/")) {
        x->reply->headers.clear();  // a new response (after 100 Continue, say)
        return size * n;
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos) return size * n;
    const std::string name = lower(line.substr(0, colon));
    const std::string value = trim(line.substr(colon + 1));
    auto& slot = x->reply->headers[name];
    slot = slot.empty() ? value : slot + ", " + value;
    return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* x = static_cast<Exchange*>(user);
    // Bodies of answers are small documents; cap what is kept of anything else.
    if (x->reply->body.size() < (4u << 20)) x->reply->body.append(data, size * n);
    return size * n;
}

size_t on_read(char* buffer, size_t size, size_t n, void* user) {
    auto* x = static_cast<Exchange*>(user);
    const std::uint64_t total = x->body->size();
    if (x->pos >= total) return 0;
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(size * n, total - x->pos));
    if (x->body->file.empty()) {
        std::memcpy(buffer, x->body->data.data() + x->pos, want);
        x->pos += want;
        return want;
    }
    const ssize_t got = ::pread(x->fd, buffer, want, static_cast<off_t>(x->body->offset + x->pos));
    if (got <= 0) return CURL_READFUNC_ABORT;  // the file shrank or went away
    x->pos += static_cast<std::uint64_t>(got);
    return static_cast<size_t>(got);
}

int on_seek(void* user, curl_off_t offset, int origin) {
    auto* x = static_cast<Exchange*>(user);
    if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > x->body->size())
        return CURL_SEEKFUNC_CANTSEEK;
    x->pos = static_cast<std::uint64_t>(offset);
    return CURL_SEEKFUNC_OK;
}

bool redirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

void log_line(log::Level level, const std::string& message) {
    log::Logger::instance().write(level, message);  // the logger takes one writer at a time
}

std::string Reply::header(const std::string& name) const {
    auto it = headers.find(lower(name));
    return it == headers.end() ? "" : it->second;
}

bool transient(const Reply& r) {
    if (r.stalled) return true;
    return r.curl_code == CURLE_OK ? net::transient_status(r.status)
                                   : net::transient_code(r.curl_code);
}

std::string describe(const Reply& r) {
    if (r.curl_code != 0)
        return r.error.empty() ? curl_easy_strerror(static_cast<CURLcode>(r.curl_code)) : r.error;
    std::string out = "HTTP " + std::to_string(r.status);
    try {
        const auto j = json::parse(r.body);
        if (j.contains("errors") && j["errors"].is_array()) {
            std::string errors;
            for (const auto& e : j["errors"]) {
                if (!e.is_object()) continue;
                std::string one = e.value("code", "");
                if (auto m = e.value("message", ""); !m.empty())
                    one += (one.empty() ? "" : ": ") + m;
                errors += (errors.empty() ? "" : "; ") + one;
            }
            if (!errors.empty()) out += " " + errors;
        }
    } catch (const json::exception&) {
    }
    return out;
}

std::string authorization_for(const std::string& url, const std::string& origin_url,
                              const std::string& authorization) {
    return same_origin(url, origin_url) ? authorization : "";
}

Client::Client(ClientOptions options) : options_(std::move(options)) {
    net::ensure_curl_global();
    base_ = (options_.registry.scheme.empty() ? "https" : options_.registry.scheme) + "://" +
            options_.registry.endpoint;
}

Client::~Client() = default;

net::EasyHandle Client::acquire() {
    {
        std::lock_guard lock(mutex_);
        if (!handles_.empty()) {
            net::EasyHandle h = std::move(handles_.back());
            handles_.pop_back();
            return h;
        }
    }
    return net::make_easy();
}

void Client::release(net::EasyHandle handle) {
    std::lock_guard lock(mutex_);
    handles_.push_back(std::move(handle));
}

Reply Client::perform(const Request& request, const std::string& authorization,
                      const std::string& credential_origin, bool probe) {
    std::string url = request.url.starts_with("/") ? base_ + request.url : request.url;
    std::string method = request.method;
    const Body empty;
    const Body* body = request.body ? &*request.body : nullptr;
    if (!body && (method == "PUT" || method == "POST" || method == "PATCH")) body = &empty;
    int fd = -1;
    if (body && !body->file.empty()) {
        fd = ::open(body->file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw Error("cannot read " + body->file.string() + ": " + std::strerror(errno));
    }
    struct CloseFd {
        int fd;
        ~CloseFd() {
            if (fd >= 0) ::close(fd);
        }
    } close_fd{fd};

    for (int hop = 0;; ++hop) {
        Reply reply;
        reply.url = url;
        Exchange x{&reply, body, fd, 0};
        net::EasyHandle handle = acquire();
        CURL* h = handle.get();
        curl_easy_reset(h);
        char errbuf[CURL_ERROR_SIZE] = {0};
        net::TransferOptions transfer;
        transfer.ca_bundle = options_.ca_bundle;
        transfer.verify_tls = !probe;
        transfer.stall_timeout_s = options_.stall_timeout_s;
        net::set_common_options(h, transfer);
        net::StallWatch stall;
        stall.attach(h, transfer, url);
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION,
                         0L);  // followed below, without credentials elsewhere
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
        if (method == "HEAD") {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (method == "GET" && !body) {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        } else {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
        }
        if (body) {
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body->size()));
            curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, &x);
            curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
            curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
        }
        CURLcode code = CURLE_OK;
        {
            net::HeaderList headers;
            // No "Expect: 100-continue": it costs a round trip (or a second) per upload.
            headers.add("Expect:");
            for (const auto& hdr : request.headers) headers.add(hdr);
            const std::string auth = authorization_for(url, credential_origin, authorization);
            std::string auth_header;
            if (!auth.empty()) {
                auth_header = "Authorization: " + auth;
                headers.add(auth_header);
            }
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
            code = curl_easy_perform(h);
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
            if (!auth_header.empty()) std::fill(auth_header.begin(), auth_header.end(), '\0');
        }
        release(std::move(handle));
        ++requests_;
        reply.curl_code = static_cast<int>(code);
        if (code != CURLE_OK) reply.error = stall.failure(code, reply.status, errbuf);
        reply.stalled = stall.stalled();
        log_line(log::Level::detail,
                 method + " " + without_query(url) + ": " +
                     (code != CURLE_OK ? reply.error : std::to_string(reply.status)));
        const std::string location = reply.header("location");
        if (code != CURLE_OK || !redirect(reply.status) || location.empty() || hop >= 5)
            return reply;
        url = resolve_url(url, location);
        if (reply.status == 303 && method != "HEAD") {
            method = "GET";
            body = nullptr;
        }
    }
}

Reply Client::send_with_retries(const Request& request, const std::string& authorization,
                                const std::string& credential_origin) {
    const auto started = std::chrono::steady_clock::now();
    for (int attempt = 0;; ++attempt) {
        Reply reply = perform(request, authorization, credential_origin);
        if (!transient(reply)) return reply;
        auto delay = options_.retry.pause(attempt);
        if (reply.status == 429 || reply.status == 503) {
            // The registry's own Retry-After, up to a minute, when it asks for longer.
            const std::string after = reply.header("retry-after");
            if (!after.empty() && after.find_first_not_of("0123456789") == std::string::npos &&
                after.size() < 4)
                delay = std::max(
                    delay, std::chrono::milliseconds(std::min(std::stol(after) * 1000, 60000L)));
        }
        if (!options_.retry.allows(attempt, std::chrono::steady_clock::now() - started, delay))
            return reply;
        log_line(
            log::Level::info,
            "retrying " + request.method + " " +
                without_query(request.url.starts_with("/") ? base_ + request.url : request.url) +
                " in " + std::to_string(delay.count()) + " ms: " + describe(reply));
        std::this_thread::sleep_for(delay);
    }
}

void Client::learn(const Reply& reply) {
    const auto challenges = parse_challenges(reply.header("www-authenticate"));
    const Challenge* chosen = nullptr;
    for (const auto& c : challenges)
        if (c.scheme == "bearer") chosen = &c;
    if (!chosen)
        for (const auto& c : challenges)
            if (c.scheme == "basic") chosen = &c;
    if (!chosen) {
        const std::string what =
            challenges.empty() ? "no challenge" : "only " + challenges[0].scheme;
        throw Error("registry " + options_.registry.host + " asks for authentication with " + what +
                    "; dmc speaks Basic and Bearer");
    }
    std::lock_guard lock(mutex_);
    if (!challenge_ || challenge_->scheme != chosen->scheme ||
        challenge_->param("realm") != chosen->param("realm"))
        tokens_.clear();
    challenge_ = *chosen;
}

std::string Client::fetch_token(const Challenge& challenge,
                                const std::vector<std::string>& scopes) {
    const std::string& host = options_.registry.host;
    const std::string realm = challenge.param("realm");
    if (realm.empty() || origin(realm).empty())
        throw Error("registry " + host + " asks for a bearer token without a usable realm ('" +
                    realm + "')");
    const auto& creds = options_.credentials;
    // Credentials go to the token server the registry names, but never in clear
    // over the network.
    if (creds && lower(realm).starts_with("http://")) {
        Registry realm_host;
        realm_host.host = realm_host.endpoint =
            lower(realm.substr(7, realm.find_first_of("/?#", 7) - 7));
        if (!plain_http_allowed(realm_host, options_.insecure))
            throw Error("registry " + host + " sends dmc to the plain-HTTP token server " +
                        without_query(realm) +
                        "; dmc does not send credentials in clear (add it "
                        "to insecure_registries if that is intended)");
    }
    const std::string service = challenge.param("service");
    std::vector<std::string> want = scopes;
    if (want.empty() && !challenge.param("scope").empty()) want = {challenge.param("scope")};

    Request r;
    std::string authorization;
    if (creds && !creds->identity_token.empty()) {
        // OAuth2 refresh-token grant, as Docker does with an identity token.
        std::string form = "grant_type=refresh_token&client_id=dmc&refresh_token=" +
                           url_encode(creds->identity_token);
        if (!service.empty()) form += "&service=" + url_encode(service);
        std::string joined;
        for (const auto& s : want) joined += (joined.empty() ? "" : " ") + s;
        if (!joined.empty()) form += "&scope=" + url_encode(joined);
        r.method = "POST";
        r.url = realm;
        r.headers = {"Content-Type: application/x-www-form-urlencoded"};
        r.body = Body{form};
    } else {
        std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
        std::string query;
        if (!service.empty()) query += "service=" + url_encode(service);
        for (const auto& s : want) query += (query.empty() ? "" : "&") + ("scope=" + url_encode(s));
        r.url = url + query;
        if (creds) authorization = basic_authorization(*creds);
    }
    const Reply reply = send_with_retries(r, authorization, realm);
    if (reply.curl_code != 0)
        throw Error("cannot reach the token server " + without_query(realm) + " of registry " +
                    host + ": " + describe(reply));
    if (reply.status == 401 || reply.status == 403) {
        if (creds)
            throw Error("registry " + host + " refused the credentials" +
                        (creds->username.empty() ? "" : " of user " + creds->username) + " (from " +
                        creds->source + "): " + describe(reply) +
                        "; check the user name and password");
        throw Error("registry " + host + " needs a login to push: run docker login " + host +
                    ", or set DMC_REGISTRY_USER and DMC_REGISTRY_PASSWORD");
    }
    if (!reply.ok())
        throw Error("the token server " + without_query(realm) + " of registry " + host +
                    " answered " + describe(reply));
    const Token token = parse_token_response(reply.body);
    std::lock_guard lock(mutex_);
    std::string key;
    for (const auto& s : scopes) key += s + " ";
    // Renew a little before the registry would refuse it.
    const auto life = token.expires_in - std::min<std::chrono::seconds>(token.expires_in / 10,
                                                                        std::chrono::seconds(30));
    tokens_[key] = {token.token, std::chrono::steady_clock::now() + life};
    return token.token;
}

std::string Client::authorization(const std::vector<std::string>& scopes, bool refresh) {
    std::optional<Challenge> challenge;
    std::string key;
    for (const auto& s : scopes) key += s + " ";
    {
        std::lock_guard lock(mutex_);
        if (!challenge_) return "";
        challenge = challenge_;
        if (challenge->scheme == "bearer" && !refresh) {
            auto it = tokens_.find(key);
            if (it != tokens_.end() && std::chrono::steady_clock::now() < it->second.expires)
                return "Bearer " + it->second.token;
        }
    }
    if (challenge->scheme == "basic") {
        const auto& c = options_.credentials;
        return c && !c->username.empty() ? basic_authorization(*c) : "";
    }
    return "Bearer " + fetch_token(*challenge, scopes);
}

void Client::refused(const Reply& reply) const {
    const std::string& host = options_.registry.host;
    const auto& c = options_.credentials;
    std::string scheme;
    {
        auto* self = const_cast<Client*>(this);
        std::lock_guard lock(self->mutex_);
        if (challenge_) scheme = challenge_->scheme;
    }
    if (scheme == "bearer")
        throw Error("registry " + host + " refused the token it issued (" + describe(reply) +
                    "); the account may not be allowed to push there");
    if (c && !c->username.empty())
        throw Error("registry " + host + " refused the credentials of user " + c->username +
                    " (from " + c->source + "): " + describe(reply) +
                    "; check the user name and password");
    throw Error("registry " + host + " needs a login: run docker login " + host +
                ", or set DMC_REGISTRY_USER and DMC_REGISTRY_PASSWORD");
}

Reply Client::send(const Request& request) {
    bool renewed = false;
    while (true) {
        const std::string auth = authorization(request.scopes, renewed);
        Reply reply = send_with_retries(request, auth, base_);
        if (reply.curl_code != 0 || reply.status != 401) return reply;
        // A first refusal: an expired token, or a registry that asks only now.
        if (renewed) refused(reply);
        learn(reply);
        renewed = true;
    }
}

void Client::ping() {
    const Registry& r = options_.registry;
    const bool http_ok = plain_http_allowed(r, options_.insecure);
    if (r.scheme == "http" && !http_ok)
        throw Error("dmc does not push to " + r.host +
                    " over plain HTTP; add it to "
                    "insecure_registries (DMC_INSECURE_REGISTRIES) if that is intended");
    std::string scheme = r.scheme.empty() ? "https" : r.scheme;
    Request ping;
    ping.url = "/v2/";
    if (r.scheme.empty() && http_ok) {
        // Loopback and insecure registries may speak plain HTTP, as with Docker.
        // First ask whether the server speaks TLS at all, without loading the CA
        // store: that costs more than a whole push of an unchanged image. A TLS
        // server then gets the verified ping below.
        base_ = "https://" + r.endpoint;
        const Reply probe = perform(ping, "", base_, true);
        if (probe.curl_code == CURLE_SSL_CONNECT_ERROR) {
            log_line(log::Level::detail,
                     "registry " + r.host + " does not speak TLS; using plain HTTP");
            scheme = "http";
        }
    }
    base_ = scheme + "://" + r.endpoint;
    const Reply reply = send_with_retries(ping, "", base_);
    if (reply.curl_code == CURLE_PEER_FAILED_VERIFICATION) {
        // What to do depends on why: an expired certificate or one for another name
        // is the registry's to fix; an unknown CA is given with registry_ca.
        const std::string why = lower(reply.error);
        if (why.find("expired") != std::string::npos)
            throw Error("the TLS certificate of registry " + r.host + " has expired (" +
                        reply.error + "); its operator must renew it");
        if (why.find("subject name") != std::string::npos ||
            why.find("does not match") != std::string::npos)
            throw Error("the TLS certificate of registry " + r.host + " is not for that name (" +
                        reply.error + "); use a name the certificate was issued for");
        throw Error("the TLS certificate of registry " + r.host + " is not trusted (" +
                    reply.error + "); give its CA bundle with registry_ca (DMC_REGISTRY_CA)");
    }
    if (reply.curl_code == CURLE_SSL_CONNECT_ERROR)
        throw Error("cannot speak TLS with registry " + r.host + " (" + reply.error +
                    "); if it serves plain HTTP, add it to insecure_registries "
                    "(DMC_INSECURE_REGISTRIES)");
    if (reply.curl_code != 0)
        throw Error(
            "cannot reach registry " + r.host + " at " + base_ + ": " + reply.error +
            (transient(reply)
                 ? " (gave up after " + std::to_string(options_.retry.retries + 1) + " attempts)"
                 : ""));
    if (reply.status == 401) {
        learn(reply);
        std::lock_guard lock(mutex_);
        log_line(log::Level::detail, "registry " + r.host + " at " + base_ + ": " +
                                         challenge_->scheme + " authentication");
    } else if (reply.status == 200) {
        log_line(log::Level::detail, "registry " + r.host + " at " + base_ + ": anonymous");
    } else if (transient(reply)) {
        throw Error("registry " + r.host + " keeps failing: " + describe(reply) +
                    " (gave up after " + std::to_string(options_.retry.retries + 1) + " attempts)");
    } else {
        throw Error(base_ + "/v2/ does not answer as a registry (" + describe(reply) +
                    "); check the registry given with -H");
    }
    // Basic credentials are checked here, once, rather than by every upload.
    std::optional<Challenge> c;
    {
        std::lock_guard lock(mutex_);
        c = challenge_;
    }
    if (c && c->scheme == "basic") {
        if (!options_.credentials || options_.credentials->username.empty()) refused(reply);
        const Reply again =
            send_with_retries(ping, basic_authorization(*options_.credentials), base_);
        if (again.curl_code == 0 && again.status == 401) refused(again);
    }
}

}  // namespace dmc::registry
