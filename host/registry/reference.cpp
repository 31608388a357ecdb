#include "registry/reference.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "util/error.hpp"
#include "util/text.hpp"

namespace dmc::registry {
namespace {

bool alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool valid_component(std::string_view c) {
    if (c.empty() || !alnum_lower(c.front()) || !alnum_lower(c.back())) return false;
    for (std::size_t i = 0; i < c.size();) {
        if (alnum_lower(c[i])) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < c.size() && !alnum_lower(c[j])) ++j;
        const std::string_view sep = c.substr(i, j - i);
        const bool ok = sep == "." || sep == "_" || sep == "__" ||
                        sep.find_first_not_of('-') == std::string_view::npos;
        if (!ok) return false;
        i = j;
    }
    return true;
}

// Splits "host[:port]" (host may be "[v6]"); false when malformed.
bool split_host_port(std::string_view hp, std::string_view& host, std::string_view& port) {
    port = {};
    if (hp.empty()) return false;
    if (hp.front() == '[') {
        const auto close = hp.find(']');
        if (close == std::string_view::npos || close == 1) return false;
        host = hp.substr(0, close + 1);
        const auto rest = hp.substr(close + 1);
        if (rest.empty()) return true;
        if (rest.front() != ':') return false;
        port = rest.substr(1);
        return !port.empty();
    }
    const auto colon = hp.find(':');
    host = hp.substr(0, colon);
    if (colon != std::string_view::npos) {
        port = hp.substr(colon + 1);
        if (port.empty()) return false;
    }
    return !host.empty();
}

bool valid_hostname(std::string_view host) {
    if (host.front() == '[') {
        for (char c : host.substr(1, host.size() - 2))
            if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
        return true;
    }
    for (char c : host)
        if (!alnum_lower(c) && c != '.' && c != '-') return false;
    return host.front() != '.' && host.front() != '-' && host.back() != '.' && host.back() != '-';
}

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

Registry parse_registry(std::string_view text) {
    const std::string given(text);
    auto bad = [&](const std::string& why) -> UsageError {
        return UsageError("registry '" + given + "' " + why +
                          "; write it as host[:port][/namespace], e.g. registry.example:5000/team");
    };
    Registry r;
    if (text.starts_with("https://")) {
        r.scheme = "https";
        text.remove_prefix(8);
    } else if (text.starts_with("http://")) {
        r.scheme = "http";
        text.remove_prefix(7);
    } else if (text.find("://") != std::string_view::npos) {
        throw bad("has a scheme other than https:// or http://");
    }
    while (!text.empty() && text.back() == '/') text.remove_suffix(1);
    if (text.empty()) throw bad("is empty");
    const auto slash = text.find('/');
    const std::string hp = lower(text.substr(0, slash));
    std::string_view host, port;
    if (!split_host_port(hp, host, port) || !valid_hostname(host))
        throw bad("has a malformed host");
    if (!port.empty()) {
        if (!all_digits(port) || port.size() > 5 || std::stol(std::string(port)) > 65535 ||
            std::stol(std::string(port)) == 0)
            throw bad("has a malformed port");
    }
    r.host = hp;
    r.endpoint = hp;
    // Docker Hub is written docker.io but answers at registry-1.docker.io.
    if (hp == "docker.io" || hp == "index.docker.io") r.endpoint = "registry-1.docker.io";
    if (slash != std::string_view::npos) {
        r.ns = std::string(text.substr(slash + 1));
        if (!valid_repository(r.ns))
            throw bad(
                "has a namespace that is not a valid repository path (lower-case letters, "
                "digits, separators . _ __ - and /)");
    }
    return r;
}

std::string repository(const Registry& registry, std::string_view name) {
    std::string repo =
        registry.ns.empty() ? std::string(name) : registry.ns + "/" + std::string(name);
    if (!valid_repository(repo))
        throw UsageError("'" + repo +
                         "' is not a valid repository name; use lower-case letters, "
                         "digits and the separators . _ __ - /");
    return repo;
}

bool valid_repository(std::string_view name) {
    if (name.empty() || name.size() > 255) return false;
    std::size_t start = 0;
    while (true) {
        const auto slash = name.find('/', start);
        if (!valid_component(name.substr(start, slash - start))) return false;
        if (slash == std::string_view::npos) return true;
        start = slash + 1;
    }
}

bool valid_tag(std::string_view tag) {
    if (tag.empty() || tag.size() > 128) return false;
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    if (!word(tag.front())) return false;
    for (char c : tag)
        if (!word(c) && c != '.' && c != '-') return false;
    return true;
}

std::string tag_of_version(std::string_view version) {
    std::string out;
    for (char c : version) {
        const bool ok =
            std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
        out += ok ? c : '_';
    }
    while (!out.empty() && (out.front() == '.' || out.front() == '-')) out.erase(0, 1);
    if (out.size() > 128) out.resize(128);
    return out;
}

bool is_loopback(std::string_view host_port) {
    std::string_view host, port;
    const std::string hp = lower(host_port);
    if (!split_host_port(hp, host, port)) return false;
    if (host == "localhost" || host == "[::1]" || host.ends_with(".localhost")) return true;
    // 127.0.0.0/8, written as four decimal numbers.
    if (!host.starts_with("127.")) return false;
    int parts = 0;
    std::size_t start = 0;
    while (true) {
        const auto dot = host.find('.', start);
        const auto part = host.substr(start, dot - start);
        if (!all_digits(part) || part.size() > 3 || std::stoi(std::string(part)) > 255)
            return false;
        ++parts;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return parts == 4;
}

bool plain_http_allowed(const Registry& registry, const std::vector<std::string>& insecure) {
    if (is_loopback(registry.endpoint)) return true;
    std::string_view host, port;
    split_host_port(registry.endpoint, host, port);
    for (const auto& entry : insecure) {
        std::string e = lower(entry);
        if (e.starts_with("http://")) e.erase(0, 7);
        if (e.starts_with("https://")) e.erase(0, 8);
        while (!e.empty() && e.back() == '/') e.pop_back();
        if (e == registry.endpoint || e == registry.host || e == host) return true;
    }
    return false;
}

std::string resolve_url(const std::string& base, const std::string& location) {
    if (location.find("://") != std::string::npos) return location;
    const auto scheme_end = base.find("://");
    if (scheme_end == std::string::npos) return location;
    if (location.starts_with("//")) return base.substr(0, scheme_end + 1) + location;
    const auto path_start = base.find('/', scheme_end + 3);
    const std::string authority = base.substr(0, path_start);
    if (location.starts_with("/")) return authority + location;
    std::string path = path_start == std::string::npos ? "/" : base.substr(path_start);
    path = path.substr(0, path.find_first_of("?#"));
    path = path.substr(0, path.rfind('/') + 1);
    return authority + path + location;
}

std::string origin(const std::string& url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return "";
    const std::string scheme = lower(url.substr(0, scheme_end));
    std::string authority = url.substr(scheme_end + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (const auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
    authority = lower(authority);
    std::string_view host, port;
    if (!split_host_port(authority, host, port)) return scheme + "://" + authority;
    std::string p(port);
    if (p.empty()) p = scheme == "https" ? "443" : scheme == "http" ? "80" : "";
    return scheme + "://" + std::string(host) + ":" + p;
}

bool same_origin(const std::string& a, const std::string& b) {
    const auto oa = origin(a);
    return !oa.empty() && oa == origin(b);
}

std::string url_encode(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

}  // namespace dmc::registry
