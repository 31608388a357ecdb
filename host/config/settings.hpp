// The effective settings of a run, merged from (highest first) the command line,
// the environment, the config file and the built-in defaults.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "log/log.hpp"

namespace dmc::config {

// One Debian or Ubuntu archive source.
struct Mirror {
    std::string url;                           // e.g. http://host/debian
    std::vector<std::string> suites;           // "{dist}" is replaced by the dist; default {dist}
    std::vector<std::string> components{"main"};
    std::vector<std::string> archs;            // only for these archs (Ubuntu ports); empty = all
    std::string keyring;                       // empty = the default keyring
    int line = 0;                              // where it was defined, for messages
};

// A mirror given by its URL alone, with the default suites and components.
inline Mirror mirror_of(std::string url) {
    Mirror m;
    m.url = std::move(url);
    return m;
}

struct Settings {
    std::vector<std::string> archs{"amd64", "arm64"};
    std::string dist = "trixie";
    std::vector<Mirror> mirrors;       // empty: taken from the host's apt sources
    std::string keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
    bool allow_unsigned = false;       // accept missing/bad signatures and expired Release files
    std::string registry;              // -H: host[:port][/namespace]
    // Pushing (host/registry): see conf/dmc.yaml. The password is never logged.
    std::vector<std::string> insecure_registries;  // may speak plain HTTP (loopback always may)
    std::string registry_ca;                        // CA bundle for the registry's certificate
    long long registry_chunk_size = 0;              // bytes per PATCH; 0: one PUT per blob
    int registry_retries = 4;                       // extra attempts after a transient failure
    std::string registry_user;
    std::string registry_password;                  // DMC_REGISTRY_PASSWORD only
    std::filesystem::path registry_password_file;
    std::string ns = "default";        // Kubernetes namespace
    bool tools = false;                // -T
    bool small = false;                // build "small" images: the whole package closure
    std::filesystem::path source_dir, rootfs_dir, build_dir, image_dir, cache_dir;
    std::vector<std::filesystem::path> plugin_dirs;
    std::string tag = "latest";
    std::filesystem::path lock_file;   // pinned package versions, "name version" per line
    std::optional<long long> source_date_epoch;
    std::string compression = "gzip";
    int jobs = 4;                      // parallel downloads
    int retries = 4;                   // extra attempts after a transient network failure
    log::Settings log;
    // templates.<name>.<option>: per-template options handed to the hooks.
    std::map<std::string, std::map<std::string, std::string>> template_options;
    std::optional<std::filesystem::path> config_file;  // the file that was read, if any

    // key = value lines describing this run, for the log file's header.
    std::vector<std::pair<std::string, std::string>> describe() const;
};

// Built-in defaults, with the directories under the user's cache directory.
Settings defaults();

// Fills the directories left unset from the cache directory.
void finalize(Settings& settings);

// Reads a config file onto `settings`. Unknown keys and wrong types throw an
// Error naming the file, the line and the key.
void apply_file(Settings& settings, const std::filesystem::path& file);
void apply_yaml(Settings& settings, const std::string& text, const std::string& origin);

// Applies the environment variables (DMC_*, IMAGEDIR, OUT_level, LOG_level, LOG_dir).
using Getenv = std::optional<std::string> (*)(const char*);
std::optional<std::string> real_getenv(const char* name);
void apply_environment(Settings& settings, Getenv getenv = real_getenv);

// The config file to read when --config is not given: $DMC_CONFIG, then
// $XDG_CONFIG_HOME/dmc/dmc.yaml (~/.config/dmc/dmc.yaml), then /etc/dmc/dmc.yaml.
std::optional<std::filesystem::path> default_config_file(Getenv getenv = real_getenv);

std::vector<std::string> split_list(const std::string& text);  // "a, b,c" -> {a,b,c}
std::string join(const std::vector<std::string>& items, const std::string& separator = ",");

}  // namespace dmc::config
