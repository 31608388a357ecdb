// Runs a template's hooks across the C boundary and gathers what they declare.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plugin/catalog.hpp"

namespace dmc::plugin {

// Values the hooks can read with setting(): template, arch, dist, tools, option.<name>, ...
using HookSettings = std::map<std::string, std::string>;

// Software built from source (abi.h: dmc_prepare_ctx::source_package).
struct BuildSpec {
    std::string template_name;                               // the template that declared it
    std::string source_package, source_version;              // a Debian source package, or
    std::string tarball_url, tarball_sha256;                 // a tarball with a pinned SHA256
    std::vector<std::string> build_depends;                  // relations; empty: the source's own
    std::vector<std::pair<std::string, std::string>> steps;  // name, shell command
    bool empty() const { return source_package.empty() && tarball_url.empty(); }
};

struct PrepareResult {
    std::vector<std::string> packages;
    std::vector<std::string> excludes;
    std::vector<std::string> features;  // "ca-certificates", "tzdata", "small"
    BuildSpec build;
    std::map<std::string, std::string> alternatives;  // pinned: name -> path
};

struct CollectResult {
    std::vector<std::string> paths;
    std::vector<std::string> globs;
    std::vector<std::string> dlopened;
    std::vector<std::string> allow_missing;
    std::vector<std::string> package_files;
    std::vector<std::string> allow_setid;  // globs of files that keep setuid/setgid
};

struct FileSpec {
    std::string path;
    std::string data;
    std::uint32_t mode = 0644, uid = 0, gid = 0;
};
struct DirSpec {
    std::string path;
    std::uint32_t mode = 0755, uid = 0, gid = 0;
};
struct SymlinkSpec {
    std::string target, path;
};
struct GroupSpec {
    std::string name;
    std::uint32_t gid = 0;
};
struct UserSpec {
    std::string name;
    std::uint32_t uid = 0, gid = 0;
    std::string home, shell;
};

// Image settings as the OCI config carries them.
struct ImageSettings {
    std::vector<std::string> entrypoint;
    std::optional<std::vector<std::string>> cmd;
    std::vector<std::pair<std::string, std::string>> env;
    std::string user;
    std::string workdir;
    std::vector<std::string> ports;
    std::vector<std::string> volumes;
    std::map<std::string, std::string> labels;
    std::string stop_signal;
};

struct ConfigureResult {
    std::vector<FileSpec> files;
    std::vector<DirSpec> dirs;
    std::vector<SymlinkSpec> symlinks;
    std::vector<std::string> removals;
    std::vector<GroupSpec> groups;
    std::vector<UserSpec> users;
    ImageSettings image;
    // Image path of each file, directory and symlink → the template of the image
    // whose configure hook last wrote it (filled in by the configure step).
    std::map<std::string, std::string> written_by;
};

// A Secret of random values that deploy creates when it does not exist yet.
struct GeneratedSecret {
    std::string name;
    std::vector<std::string> keys;
};

struct DeployResult {
    std::vector<std::string> objects;  // JSON or YAML text each, in the order given
    std::vector<GeneratedSecret> secrets;
};

// Reads a file of the rootfs for the configure hook; nullopt when it does not exist.
using RootfsReader = std::function<std::optional<std::string>(const std::string& path)>;
// Lists the rootfs paths matching a glob, sorted.
using RootfsLister = std::function<std::vector<std::string>(const std::string& pattern)>;

// Each runs one hook; a failing hook throws Error("template T: hook failed: reason").
// Results accumulate into `into`, so a template's results can build on another's.
void run_prepare(const Template& t, const HookSettings& settings, PrepareResult& into);
void run_collect(const Template& t, const HookSettings& settings, CollectResult& into);
void run_configure(const Template& t, const HookSettings& settings, const RootfsReader& reader,
                   ConfigureResult& into, const RootfsLister& lister = nullptr);
void run_deploy(const Template& t, const HookSettings& settings, DeployResult& into);

}  // namespace dmc::plugin
