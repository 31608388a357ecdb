// The effective settings of a run, merged from (highest first) the command line,
// the environment, the config file and the built-in defaults.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "log/log.hpp"

namespace dmc::config {

// One Debian or Ubuntu archive source.
struct Mirror {
    std::string url;                  // e.g. http://host/debian
    std::vector<std::string> suites;  // "{dist}" is replaced by the dist; default {dist}
    std::vector<std::string> components{"main"};
    std::vector<std::string> archs;  // only for these archs (Ubuntu ports); empty = all
    std::string keyring;             // empty = the default keyring
    int line = 0;                    // where it was defined, for messages
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
    std::vector<Mirror> mirrors;  // empty: taken from the host's apt sources
    std::string keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
    bool allow_unsigned = false;  // accept missing/bad signatures and expired Release files
    std::string registry;         // -H: host[:port][/namespace]
    // Pushing (host/registry): see conf/dmc.yaml. The password is never logged.
    std::vector<std::string> insecure_registries;  // may speak plain HTTP (loopback always may)
    std::string registry_ca;                       // CA bundle for the registry's certificate
    long long registry_chunk_size = 0;             // bytes per PATCH; 0: one PUT per blob
    int registry_retries = 4;                      // extra attempts after a transient failure
    std::string registry_user;
    std::string registry_password;  // DMC_REGISTRY_PASSWORD only
    std::filesystem::path registry_password_file;
    // Signing (host/sign): the private key, a file or env://VAR; never shown.
    std::string sign_key;
    std::filesystem::path key;  // --key: the pair keygen writes, the key verify checks with
    // Kubernetes (host/kube): see conf/dmc.yaml.
    std::string ns;                    // empty: the kubeconfig context's, else "default"
    std::filesystem::path kubeconfig;  // empty: KUBECONFIG, else ~/.kube/config
    std::string kube_context;          // empty: the current context
    int rollout_timeout = 300;         // seconds
    int build_timeout = 3600;          // seconds a build step from source may take
    std::string source_keyring;        // of .dsc signatures; empty: debian-keyring's, if installed
    bool force_conflicts = false;      // server-side apply takes over others' fields
    bool deploy = true;                // create deploys after its push when a cluster is set
    bool tools = false;                // -T
    bool small = false;                // build "small" images: the whole package closure
    bool keep_trees = false;           // rootfs trees stay whole after their image is packed
    bool docker_archive = false;       // a `docker load` archive per image besides the layout
    std::filesystem::path source_dir, rootfs_dir, build_dir, image_dir, cache_dir;
    // Where each package is unpacked once for every tree (rootfs/unpack's store).
    std::filesystem::path package_store() const { return rootfs_dir / "store"; }
    std::vector<std::filesystem::path> plugin_dirs;
    std::string tag = "latest";
    // dmc.lock (host/lock): empty until finalized, then next to the config file.
    std::filesystem::path lock_file;
    bool use_lock = true;      // --no-lock: neither read nor write it for one run
    std::string snapshot_url;  // a snapshot service: <url>/archive/<archive>/<date>/
    std::string snapshot;      // --snapshot DATE: read every mirror at that moment
    std::optional<long long> source_date_epoch;
    std::string compression = "gzip";
    int jobs = 4;            // parallel downloads
    int retries = 4;         // extra attempts after a transient network failure
    int retry_time = 60;     // seconds after a file's first attempt: no new attempt
    int stall_timeout = 15;  // seconds without a byte: the attempt is abandoned
    log::Settings log;
    // templates.<name>.<option>: per-template options handed to the hooks.
    std::map<std::string, std::map<std::string, std::string>> template_options;
    // Where each was set ("dmc.yaml:12"), keyed "template.option", for messages.
    std::map<std::string, std::string> template_option_origins;
    std::optional<std::filesystem::path> config_file;  // the file that was read, if any

    // key = value lines describing this run, for the log file's header.
    std::vector<std::pair<std::string, std::string>> describe() const;
};

// One setting as the table in settings.cpp describes it: that table is the only
// place that knows a setting's key, variables, option, type and range.
struct SettingInfo {
    std::string key;               // config file key, "log.out_level"; empty: none
    std::vector<std::string> env;  // environment variables, the later winning
    std::string option;            // command-line option, "" when none
    std::string description;
};
std::vector<SettingInfo> setting_infos();

// Built-in defaults, with the directories under the user's cache directory.
Settings defaults();
// A setting's default as the log and -h show it.
std::string default_text(std::string_view key);

// Sets the setting `key` from a command-line option's text, parsed and checked as
// the same setting from the environment or a config file is.
void apply_option(Settings& settings, std::string_view key, const std::string& text);

// The directories dmc writes into, each with the setting that chose it.
struct DirectorySetting {
    SettingInfo setting;
    std::filesystem::path dir;
};
std::vector<DirectorySetting> directories(const Settings& settings);
// "cachedir (DMC_CACHEDIR)": how a message names a setting so that users can change it.
std::string setting_name(const SettingInfo& setting);

// Why a mirror URL cannot be used (a scheme other than http, https or file), or nullopt.
std::optional<std::string> unsupported_url(std::string_view url);

// Fills the directories left unset from the cache directory.
void finalize(Settings& settings);

// Reads a config file onto `settings`. Unknown keys, a key given twice and wrong
// types throw an Error naming the file, the line and the key.
void apply_file(Settings& settings, const std::filesystem::path& file);
void apply_yaml(Settings& settings, const std::string& text, const std::string& origin);

// Applies the environment variables (DMC_*, IMAGEDIR, OUT_level, LOG_level, LOG_dir).
using Getenv = std::optional<std::string> (*)(const char*);
std::optional<std::string> real_getenv(const char* name);
void apply_environment(Settings& settings, Getenv getenv = real_getenv);

// The config file to read when --config is not given: $DMC_CONFIG, then
// $XDG_CONFIG_HOME/dmc/dmc.yaml (~/.config/dmc/dmc.yaml), then /etc/dmc/dmc.yaml.
std::optional<std::filesystem::path> default_config_file(Getenv getenv = real_getenv);
// The lock next to the config: dmc.yaml -> dmc.lock beside it; without a config file,
// where the user's config would be ($XDG_CONFIG_HOME/dmc/dmc.lock).
std::filesystem::path default_lock_file(const Settings& settings, Getenv getenv = real_getenv);

std::vector<std::string> split_list(const std::string& text);  // "a, b,c" -> {a,b,c}
std::string join(const std::vector<std::string>& items, const std::string& separator = ",");

}  // namespace dmc::config
