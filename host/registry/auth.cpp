#include "registry/auth.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "log/log.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

extern char** environ;

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

// The executable `name` in the colon-separated `path`, or "".
std::string find_executable(const std::string& name, const std::string& path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        auto colon = path.find(':', start);
        if (colon == std::string::npos) colon = path.size();
        const std::string dir = path.substr(start, colon - start);
        const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
        start = colon + 1;
    }
    return "";
}

struct HelperRun {
    int status = -1;
    std::string out;
};

// Runs `program get`, writes `input`, collects stdout and stderr (merged) for up
// to a minute: helpers may ask a keyring daemon, never the terminal.
HelperRun run_helper(const std::string& program, const std::string& input) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
        throw Error(std::string("cannot run ") + program + ": " + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    std::string arg0 = program, arg1 = "get";
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) {
        ::close(in[1]);
        ::close(out[0]);
        throw Error("cannot run " + program + ": " + std::strerror(rc));
    }
    // The input is one short line: it fits in the pipe buffer.
    struct sigaction ignore {
    }, old{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);
    [[maybe_unused]] auto written = ::write(in[1], input.data(), input.size());
    ::close(in[1]);
    ::sigaction(SIGPIPE, &old, nullptr);

    HelperRun result;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    char buf[4096];
    bool timed_out = false;
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{out[0], POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            timed_out = n == 0;
            break;
        }
        const ssize_t got = ::read(out[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        result.out.append(buf, static_cast<std::size_t>(got));
        if (result.out.size() > (1 << 20)) break;
    }
    ::close(out[0]);
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) throw Error(program + " did not answer within 60 s; check the credential store");
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
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
    if (j.contains("expires_in") && j["expires_in"].is_number_integer() &&
        j["expires_in"].get<long long>() > 0)
        t.expires_in = std::chrono::seconds(j["expires_in"].get<long long>());
    return t;
}

std::string base64_encode(std::string_view data) {
    static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                           (static_cast<unsigned char>(data[i + 1]) << 8) |
                           static_cast<unsigned char>(data[i + 2]);
        out += chars[(v >> 18) & 63];
        out += chars[(v >> 12) & 63];
        out += chars[(v >> 6) & 63];
        out += chars[v & 63];
    }
    if (i < data.size()) {
        unsigned v = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) v |= static_cast<unsigned char>(data[i + 1]) << 8;
        out += chars[(v >> 18) & 63];
        out += chars[(v >> 12) & 63];
        out += i + 1 < data.size() ? chars[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : text) {
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else if (c == '=' || c == '\n' || c == '\r')
            continue;
        else
            return std::nullopt;
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
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
    const auto run = run_helper(program, server + "\n");
    if (run.status != 0) {
        // The helper protocol's "not found" answer: no credentials, not an error.
        if (run.out.find("credentials not found") != std::string::npos) return std::nullopt;
        throw Error(name + " get failed (exit " + std::to_string(run.status) +
                    "): " + first_line(run.out));
    }
    json j;
    try {
        j = json::parse(run.out);
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
