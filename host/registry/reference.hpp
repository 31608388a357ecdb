// Names in the OCI distribution protocol: the registry as the user writes it
// (host[:port][/namespace]), repository names and tags, and the URL helpers
// that decide where credentials may go.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dmc::registry {

// A registry as given with -H, DMC_HOST or `registry`.
struct Registry {
    std::string host;      // "host[:port]", lower-cased: what references print
    std::string endpoint;  // where the API lives ("registry-1.docker.io" for docker.io)
    std::string ns;        // repository prefix, e.g. "team/images"; may be empty
    std::string scheme;    // "https" or "http" when given with a scheme; else empty
};

// Parses "host[:port][/namespace]", optionally prefixed with https:// or http://.
// Throws UsageError naming what is wrong.
Registry parse_registry(std::string_view text);

// The repository name for an image: "<namespace>/<name>" (or just <name>).
// Throws UsageError when the result is not a valid repository name.
std::string repository(const Registry& registry, std::string_view name);

// Repository name grammar of the distribution spec:
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
bool valid_repository(std::string_view name);
// Tag grammar: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}
bool valid_tag(std::string_view tag);

// A Debian version made into a tag: characters a tag cannot hold (':' of an
// epoch, '+', '~') become '_'; "" when nothing is left.
std::string tag_of_version(std::string_view version);

// localhost, 127.0.0.0/8 and ::1, with or without a port: Docker lets them speak
// plain HTTP, and so does dmc.
bool is_loopback(std::string_view host_port);

// Whether plain HTTP may be used: loopback, or listed as insecure (by host or
// host:port).
bool plain_http_allowed(const Registry& registry, const std::vector<std::string>& insecure);

// Absolute URL of a Location header relative to the URL that returned it.
std::string resolve_url(const std::string& base, const std::string& location);

// scheme://host:port with the default port made explicit, lower-cased; "" when
// the URL has no scheme. Two URLs with the same origin may share credentials.
std::string origin(const std::string& url);
bool same_origin(const std::string& a, const std::string& b);

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view text);

}  // namespace dmc::registry
