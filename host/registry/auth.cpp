#include "registry/auth.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "log/log.hpp"
#include "util/base64.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::registry {
namespace {

bool tchar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::strchr("!#$%&'*+-.^_`|~/", c) != nullptr;
}

std::string getenv_or(const char* name, const std::string& fallback = "") {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string(v) : fallback;
}

std::string first_line(std::string text) {
    text = text.substr(0, text.find('\n'));
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
    return text;
}

Credentials from_user_secret(std::string user, std::string secret, std::string source) {
    Credentials c;
    c.source = std::move(source);
    // Docker's convention: a helper or an identitytoken entry returns the user
    // "<token>" when the secret is a refresh token rather than a password.
    if (user == "<token>")
        c.identity_token = std::move(secret);
    else {
        c.username = std::move(user);
        c.password = std::move(secret);
    }
    return c;
}

// The server name Docker hands to credential helpers for this registry.
std::string helper_server(const Registry& r) {
    return r.host == "docker.io" || r.host == "index.docker.io" ? "https://index.docker.io/v1/"
                                                                : r.host;
}

}  // namespace

std::string Challenge::param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? "" : it->second;
}

std::vector<Challenge> parse_challenges(std::string_view h) {
    std::vector<Challenge> out;
    std::size_t i = 0;
    auto skip_ws = [&] {
        while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
    };
    auto token = [&] {
        const std::size_t start = i;
        while (i < h.size() && tchar(h[i])) ++i;
        return std::string(h.substr(start, i - start));
    };
    while (i < h.size()) {
        skip_ws();
        while (i < h.size() && (h[i] == ',' || h[i] == ' ' || h[i] == '\t')) ++i;
        if (i >= h.size()) break;
        Challenge c;
        c.scheme = lower(token());
        if (c.scheme.empty()) {
            ++i;  // not a token: skip the character
            continue;
        }
        // Parameters until the next challenge: a token not followed by '='.
        while (true) {
            skip_ws();
            while (i < h.size() && h[i] == ',') {
                ++i;
                skip_ws();
            }
            const std::size_t mark = i;
            std::string name = token();
            skip_ws();
            if (name.empty() || i >= h.size() || h[i] != '=') {
                i = mark;
                break;
            }
            ++i;  // '='
            skip_ws();
            std::string value;
            if (i < h.size() && h[i] == '"') {
                ++i;
                while (i < h.size() && h[i] != '"') {
                    if (h[i] == '\\' && i + 1 < h.size()) ++i;
                    value += h[i++];
                }
                if (i < h.size()) ++i;  // closing quote
            } else {
                value = token();
            }
            c.params[lower(name)] = value;
        }
        out.push_back(std::move(c));
    }
    return out;
}

Token parse_token_response(std::string_view body) {
    json j;
    try {
        j = json::parse(body);
    } catch (const json::exception&) {
        throw Error("the token server's answer is not JSON");
    }
    Token t;
    if (j.contains("token") && j["token"].is_string()) t.token = j["token"].get<std::string>();
    if (t.token.empty() && j.contains("access_token") && j["access_token"].is_string())
        t.token = j["access_token"].get<std::string>();
    if (t.token.empty()) throw Error("the token server's answer has no token");
    if (j.contains("refresh_token") && j["refresh_token"].is_string())
        t.refresh_token = j["refresh_token"].get<std::string>();
    // A day at most: a server's lifetime of 10^18 s must not overflow the clock.
    if (j.contains("expires_in") && j["expires_in"].is_number_integer() &&
        j["expires_in"].get<long long>() > 0)
        t.expires_in = std::chrono::seconds(std::min(j["expires_in"].get<long long>(), 86400LL));
    return t;
}

std::string basic_authorization(const Credentials& c) {
    return "Basic " + base64_encode(c.username + ":" + c.password);
}

fs::path default_docker_config_dir() {
    if (auto dir = getenv_or("DOCKER_CONFIG"); !dir.empty()) return dir;
    if (auto home = getenv_or("HOME"); !home.empty()) return fs::path(home) / ".docker";
    return {};
}

std::string normalize_auth_key(std::string_view key) {
    std::string k = lower(key);
    if (auto p = k.find("://"); p != std::string::npos) k.erase(0, p + 3);
    k = k.substr(0, k.find('/'));
    if (k == "index.docker.io" || k == "registry-1.docker.io" || k == "registry.hub.docker.com")
        return "docker.io";
    return k;
}

std::optional<Credentials> helper_credentials(const std::string& helper, const std::string& server,
                                              const std::string& path) {
    const std::string name = "docker-credential-" + helper;
    const std::string program = find_executable(name, path.empty() ? getenv_or("PATH") : path);
    if (program.empty())
        throw Error("the credential helper " + name +
                    " named in Docker's config.json is not in "
                    "PATH; install it or remove it from config.json");
    // Helpers may ask a keyring daemon, never the terminal: stdin is the server's name.
    const auto run = run_process({.argv = {program, "get"}, .input = server + "\n"});
    if (run.status != 0) {
        // The helper protocol's "not found" answer: no credentials, not an error.
        if (run.output.find("credentials not found") != std::string::npos) return std::nullopt;
        throw Error(name + " get failed (exit " + std::to_string(run.status) +
                    "): " + first_line(run.output));
    }
    json j;
    try {
        j = json::parse(run.output);
    } catch (const json::exception&) {
        throw Error(name + " get did not answer with JSON; check the helper");
    }
    const std::string user = j.value("Username", "");
    const std::string secret = j.value("Secret", "");
    if (user.empty() && secret.empty()) return std::nullopt;
    return from_user_secret(user, secret, name);
}

std::optional<Credentials> docker_config_credentials(const fs::path& dir, const Registry& registry,
                                                     const std::string& path) {
    const fs::path file = dir / "config.json";
    std::error_code ec;
    if (dir.empty() || !fs::is_regular_file(file, ec)) return std::nullopt;
    json j;
    try {
        j = json::parse(read_file(file));
    } catch (const std::exception&) {
        throw Error(file.string() + " is not valid JSON; fix it or point DOCKER_CONFIG elsewhere");
    }
    if (!j.is_object()) return std::nullopt;
    const std::string want = normalize_auth_key(registry.host);
    const std::string source = file.string();

    if (j.contains("credHelpers") && j["credHelpers"].is_object())
        for (const auto& [key, helper] : j["credHelpers"].items())
            if (normalize_auth_key(key) == want && helper.is_string())
                return helper_credentials(helper.get<std::string>(), helper_server(registry), path);

    if (j.contains("auths") && j["auths"].is_object())
        for (const auto& [key, entry] : j["auths"].items()) {
            if (normalize_auth_key(key) != want || !entry.is_object()) continue;
            if (auto token = entry.value("identitytoken", ""); !token.empty()) {
                Credentials c = from_user_secret("<token>", token, source);
                return c;
            }
            if (auto auth = entry.value("auth", ""); !auth.empty()) {
                const auto decoded = base64_decode(auth);
                const auto colon = decoded ? decoded->find(':') : std::string::npos;
                if (colon == std::string::npos)
                    throw Error(source + ": the auths entry for " + key +
                                " is not base64 of user:password; log in again");
                return from_user_secret(decoded->substr(0, colon), decoded->substr(colon + 1),
                                        source);
            }
            const std::string user = entry.value("username", "");
            const std::string pass = entry.value("password", "");
            if (!user.empty()) return from_user_secret(user, pass, source);
        }

    if (j.contains("credsStore") && j["credsStore"].is_string() &&
        !j["credsStore"].get<std::string>().empty())
        return helper_credentials(j["credsStore"].get<std::string>(), helper_server(registry),
                                  path);
    return std::nullopt;
}

std::optional<Credentials> find_credentials(const CredentialOptions& o, const Registry& registry) {
    if (!o.username.empty()) {
        Credentials c;
        c.username = o.username;
        if (!o.password.empty()) {
            c.password = o.password;
            c.source = "DMC_REGISTRY_PASSWORD";
        } else if (!o.password_file.empty()) {
            std::error_code ec;
            if (!fs::is_regular_file(o.password_file, ec))
                throw Error("registry password file " + o.password_file.string() +
                            " does not exist; fix registry_password_file");
            c.password = first_line(read_file(o.password_file));
            c.source = o.password_file.string();
        } else {
            throw Error("registry user " + o.username +
                        " has no password; set "
                        "DMC_REGISTRY_PASSWORD or registry_password_file");
        }
        return c;
    }
    if (!o.password.empty() || !o.password_file.empty())
        throw Error(
            "a registry password is set but no user; set DMC_REGISTRY_USER or "
            "registry_user");
    const fs::path dir = o.docker_config.empty() ? default_docker_config_dir() : o.docker_config;
    auto c = docker_config_credentials(dir, registry, o.path);
    if (c) log::detail("registry credentials for " + registry.host + " from " + c->source);
    return c;
}

}  // namespace dmc::registry
