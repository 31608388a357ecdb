// Authentication for the distribution protocol: WWW-Authenticate challenges,
// bearer token responses, and credentials from the environment, a password
// file, or Docker's config.json (auths, credHelpers, credsStore through the
// docker-credential-* helper protocol).
//
// Credentials are kept in memory only and never logged: messages name where
// they came from (Credentials::source), never what they are.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/reference.hpp"

namespace dmc::registry {

// One challenge of a WWW-Authenticate header: scheme lower-cased ("basic",
// "bearer"), parameter names lower-cased, values unquoted.
struct Challenge {
    std::string scheme;
    std::map<std::string, std::string> params;
    std::string param(const std::string& name) const;
};

// Every challenge of one WWW-Authenticate value (RFC 7235: comma-separated
// challenges of comma-separated parameters, quoted strings with \ escapes).
std::vector<Challenge> parse_challenges(std::string_view header);

struct Credentials {
    std::string username;
    std::string password;
    std::string identity_token;  // an OAuth2 refresh token instead of a password
    std::string source;          // where they came from, for messages
};

// A token endpoint's answer (docker token spec): "token" or "access_token",
// "expires_in" (default 60 s), and an optional "refresh_token".
struct Token {
    std::string token;
    std::string refresh_token;
    std::chrono::seconds expires_in{60};
};
// Throws Error when the body has no token.
Token parse_token_response(std::string_view body);

// "Basic <base64(user:password)>".
std::string basic_authorization(const Credentials& credentials);

struct CredentialOptions {
    std::string username;                 // DMC_REGISTRY_USER / registry_user
    std::string password;                 // DMC_REGISTRY_PASSWORD
    std::filesystem::path password_file;  // registry_password_file: first line
    std::filesystem::path
        docker_config;  // directory of config.json; empty: $DOCKER_CONFIG or ~/.docker
    std::string path;   // where to look for helpers; empty: $PATH
};

// The directory whose config.json dmc reads: $DOCKER_CONFIG, else $HOME/.docker.
std::filesystem::path default_docker_config_dir();

// Credentials for a registry: the explicit user and password (or password file)
// first, then Docker's config.json. nullopt: anonymous. Throws Error when a
// source is broken (a user without a password, an unreadable file, a helper
// that fails), naming the source.
std::optional<Credentials> find_credentials(const CredentialOptions& options,
                                            const Registry& registry);

// The key of a config.json "auths" entry reduced to host[:port] ("https://
// index.docker.io/v1/" and friends become "docker.io").
std::string normalize_auth_key(std::string_view key);

// What config.json in `dir` holds for `host`, in Docker's order: credHelpers
// for that host, then an inline auths entry, then credsStore.
std::optional<Credentials> docker_config_credentials(const std::filesystem::path& dir,
                                                     const Registry& registry,
                                                     const std::string& path);

// Runs `docker-credential-<helper> get` with the server on stdin. nullopt when
// the helper has no credentials for it.
std::optional<Credentials> helper_credentials(const std::string& helper, const std::string& server,
                                              const std::string& path);

}  // namespace dmc::registry
