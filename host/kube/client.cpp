#include "kube/client.hpp"

#include <curl/curl.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "log/log.hpp"
#include "net/curl.hpp"
#include "util/base64.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

using json = nlohmann::ordered_json;

namespace dmc::kube {
namespace {

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

std::size_t collect_retry_after(char* data, std::size_t size, std::size_t n, void* out) {
    std::string line(data, size * n);
    static const std::string name = "retry-after:";
    if (line.size() > name.size()) {
        std::string head = line.substr(0, name.size());
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (head == name) {
            std::string value = line.substr(name.size());
            while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
                value.pop_back();
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            *static_cast<std::string*>(out) = value;
        }
    }
    return size * n;
}

struct Blob {
    std::string data;
    curl_blob blob() { return curl_blob{data.data(), data.size(), CURL_BLOB_COPY}; }
};

// host and port of an https URL: "https://h:6443/x" -> {"h", "6443"}.
std::pair<std::string, std::string> host_port(const std::string& url) {
    auto start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    auto end = url.find('/', start);
    const std::string authority = url.substr(start, end == std::string::npos ? end : end - start);
    const auto colon = authority.rfind(':');
    if (colon != std::string::npos && authority.find(']', colon) == std::string::npos)
        return {authority.substr(0, colon), authority.substr(colon + 1)};
    return {authority, url.rfind("http://", 0) == 0 ? "80" : "443"};
}

// localhost, ::1 or an IPv4 address of 127.0.0.0/8 (not a name such as 127.x.example).
bool loopback_host(const std::string& host) {
    if (host == "localhost" || host == "[::1]") return true;
    unsigned a = 0, b = 0, c = 0, d = 0;
    char tail = 0;
    return std::sscanf(host.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 &&
           b < 256 && c < 256 && d < 256;
}

}  // namespace

ApiClient::ApiClient(ClusterAccess access, net::RetryPolicy retry)
    : access_(std::move(access)), retry_(retry), curl_(net::make_easy()) {
    if (access_.user.exec) exec_ = std::make_unique<ExecPlugin>(*access_.user.exec, access_);
    const bool https = access_.server.rfind("https://", 0) == 0;
    if (!https && access_.server.rfind("http://", 0) != 0)
        throw Error("the cluster server '" + access_.server + "' of " + access_.source +
                    " is not an https:// URL");
    const auto& u = access_.user;
    const bool credentials = !u.token.empty() || !u.token_file.empty() || !u.username.empty() ||
                             u.exec || !u.client_certificate_data.empty() ||
                             !u.client_certificate.empty();
    if (!https && credentials && !loopback_host(host_port(access_.server).first))
        throw Error("the cluster server " + access_.server +
                    " speaks plain HTTP; dmc sends credentials only over HTTPS: fix the "
                    "kubeconfig's server");
    if (access_.insecure_skip_tls_verify && (!access_.ca_data.empty() || !access_.ca_file.empty()))
        throw Error("the cluster of context " + access_.context + " in " + access_.source +
                    " has both a certificate-authority and insecure-skip-tls-verify; keep one "
                    "(kubectl refuses this too)");
    if (access_.insecure_skip_tls_verify)
        log::warning("the kubeconfig's context " + access_.context +
                     " skips TLS verification (insecure-skip-tls-verify): the API server is "
                     "not authenticated");
}

ApiResponse ApiClient::request(const std::string& method, const std::string& path,
                               const std::string& body, const std::string& content_type) {
    const auto started = std::chrono::steady_clock::now();
    bool renewed = false;
    for (int attempt = 0;; ++attempt) {
        ApiResponse r = this->attempt(method, path, body, content_type);
        // An exec credential the server refuses is asked for again once, as client-go does.
        if (r.status == 401 && exec_ && !renewed) {
            exec_->invalidate();
            renewed = true;
            --attempt;
            continue;
        }
        const bool transient =
            r.curl_code != 0 ? net::transient_code(r.curl_code) : net::transient_status(r.status);
        auto pause = retry_.pause(attempt);
        if (r.curl_code == 0 && !r.retry_after.empty() && r.retry_after.size() < 4 &&
            r.retry_after.find_first_not_of("0123456789") == std::string::npos)
            pause = std::max(pause, std::chrono::milliseconds(std::stol(r.retry_after) * 1000));
        if (!transient ||
            !retry_.allows(attempt, std::chrono::steady_clock::now() - started, pause)) {
            if (r.curl_code == 0) return r;
            std::string hint =
                "check the server of context " + access_.context + " in " + access_.source;
            if (r.curl_code == CURLE_PEER_FAILED_VERIFICATION ||
                r.curl_code == CURLE_SSL_CACERT_BADFILE || r.curl_code == CURLE_SSL_CERTPROBLEM)
                hint =
                    "check the cluster's certificate-authority (and tls-server-name) and the "
                    "client certificate in " +
                    access_.source;
            throw Error("cannot reach the Kubernetes API at " + access_.server + ": " + r.error +
                        "; " + hint);
        }
        log::info(method + " " + path + ": " + (r.curl_code != 0 ? r.error : status_message(r)) +
                  "; trying again in " + std::to_string(pause.count()) + " ms");
        std::this_thread::sleep_for(pause);
    }
}

ApiResponse ApiClient::attempt(const std::string& method, const std::string& path,
                               const std::string& body, const std::string& content_type) {
    CURL* h = curl_.get();
    {
        curl_easy_reset(h);
        net::TransferOptions transfer;
        transfer.verify_tls = !access_.insecure_skip_tls_verify;
        transfer.ca_bundle = access_.ca_file.string();
        net::set_common_options(h, transfer);
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
        // The cluster's CA is the only trust root, as with kubectl: not the system's.
        Blob ca{access_.ca_data};
        if (transfer.verify_tls && (!ca.data.empty() || !access_.ca_file.empty()))
            curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
        if (!ca.data.empty() && transfer.verify_tls) {
            curl_easy_setopt(h, CURLOPT_CAINFO, nullptr);
            auto b = ca.blob();
            curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
        }

        std::string server = access_.server;
        while (!server.empty() && server.back() == '/') server.pop_back();
        std::string url = server + path;
        std::string connect_to, host_header;
        curl_slist* connect_list = nullptr;
        if (!access_.tls_server_name.empty()) {
            // The certificate is checked against tls-server-name: the URL names it and
            // the connection goes to the server's real address.
            const auto [host, port] = host_port(server);
            const auto scheme_end = server.find("://") + 3;
            const auto authority_end = server.find('/', scheme_end);
            url = server.substr(0, scheme_end) + access_.tls_server_name + ":" + port +
                  (authority_end == std::string::npos ? "" : server.substr(authority_end)) + path;
            connect_to = access_.tls_server_name + ":" + port + ":" + host + ":" + port;
            host_header = "Host: " + server.substr(scheme_end, authority_end == std::string::npos
                                                                   ? std::string::npos
                                                                   : authority_end - scheme_end);
            connect_list = curl_slist_append(nullptr, connect_to.c_str());
            curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_list);
        }
        std::unique_ptr<curl_slist, net::HeaderListDeleter> connect_guard(connect_list);
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        if (!access_.proxy_url.empty())
            curl_easy_setopt(h, CURLOPT_PROXY, access_.proxy_url.c_str());

        net::HeaderList headers;
        headers.add("Accept: application/json");
        if (!host_header.empty()) headers.add(host_header);  // the server's, as kubectl sends
        if (!content_type.empty()) headers.add("Content-Type: " + content_type);
        // Credentials: exec plugin, then the kubeconfig's token, token file, basic auth;
        // a client certificate goes with any of them.
        const auto& u = access_.user;
        Blob cert{u.client_certificate_data}, key{u.client_key_data};
        std::string token = u.token;
        if (!u.token_file.empty()) {
            try {
                token = read_file(u.token_file);
            } catch (const Error&) {
                throw Error("cannot read the token file " + u.token_file.string() + " of " +
                            access_.source + "; check the kubeconfig's tokenFile");
            }
            while (!token.empty() && (token.back() == '\n' || token.back() == '\r'))
                token.pop_back();
        }
        if (exec_) {
            // As in client-go, a token of the kubeconfig wins over the plugin's.
            const auto& c = exec_->credential();
            if (token.empty()) token = c.token;
            if (!c.client_certificate_data.empty()) {
                cert.data = c.client_certificate_data;
                key.data = c.client_key_data;
            }
        }
        if (!token.empty()) {
            headers.add("Authorization: Bearer " + token);
        } else if (!u.username.empty()) {
            headers.add("Authorization: Basic " + base64_encode(u.username + ":" + u.password));
        }
        if (!cert.data.empty()) {
            auto cb = cert.blob();
            auto kb = key.blob();
            curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cb);
            curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
            curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &kb);
            curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
        } else if (!u.client_certificate.empty()) {
            curl_easy_setopt(h, CURLOPT_SSLCERT, u.client_certificate.c_str());
            curl_easy_setopt(h, CURLOPT_SSLKEY, u.client_key.c_str());
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
        if (method == "GET") {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, nullptr);
        } else {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        }
        ApiResponse r;
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect_retry_after);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.retry_after);
        char errbuf[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        const CURLcode code = curl_easy_perform(h);
        // Blobs and headers are copied by libcurl or live until here; nothing outlives them.
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
        curl_easy_setopt(h, CURLOPT_CONNECT_TO, nullptr);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
        if (code == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
        } else {
            r.curl_code = code;
            r.error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code);
        }
        return r;
    }
}

std::string status_message(const ApiResponse& r) {
    try {
        const json j = json::parse(r.body);
        if (j.is_object() && j.value("kind", "") == "Status" && j.contains("message") &&
            j["message"].is_string() && !j["message"].get<std::string>().empty())
            return j["message"].get<std::string>();
    } catch (const json::exception&) {
    }
    return "HTTP " + std::to_string(r.status);
}

std::string status_reason(const ApiResponse& r) {
    try {
        const json j = json::parse(r.body);
        if (j.is_object() && j.contains("reason") && j["reason"].is_string())
            return j["reason"].get<std::string>();
    } catch (const json::exception&) {
    }
    return "";
}

std::string describe_failure(const ApiResponse& r, const std::string& what,
                             const ClusterAccess& access, const std::string& ns) {
    std::string message = status_message(r);
    std::string hint;
    switch (r.status) {
        case 400:
            hint = "the server refused the request; report it with the log file";
            break;
        case 401:
            hint = "the credentials of context " + access.context + " (" + access.source +
                   ") were refused: renew them or choose another context with --context";
            break;
        case 403:
            hint = "the user of context " + access.context +
                   " is not allowed to; ask the cluster's admin for a Role that allows it";
            break;
        case 404:
            if (message.rfind("namespaces \"", 0) == 0)
                hint = "create the namespace (kubectl create namespace " + ns +
                       ") or choose another with -N";
            else
                hint = "the cluster does not serve this kind; check the cluster's version";
            break;
        case 409:
            hint =
                "another field manager owns these fields: change them with it, or take them "
                "over with --force-conflicts";
            break;
        case 422: {
            std::string causes;
            try {
                const json j = json::parse(r.body);
                for (const auto& c : j.at("details").at("causes"))
                    causes += (causes.empty() ? "" : "; ") + c.value("field", std::string()) +
                              ": " + c.value("message", std::string());
            } catch (const json::exception&) {
            }
            if (!causes.empty() && message.find(causes) == std::string::npos)
                message += " (" + causes + ")";
            hint = "the object is invalid: fix the template's deploy hook or its options";
            break;
        }
        default:
            hint = r.status >= 500 ? "the API server failed; try again later"
                                   : "see the server's message";
    }
    return what + ": " + std::to_string(r.status) + " " + message + "; " + hint;
}

}  // namespace dmc::kube
