// Turns the files picked from the rootfs and a template's configuration into the
// layer of a micro image: the files with their recorded owners and modes, a
// minimal base (users, NSS, os-release, /tmp), and the dpkg metadata scanners read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "contents/features.hpp"
#include "image/layer.hpp"
#include "plugin/hooks.hpp"
#include "rootfs/manifest.hpp"

namespace dmc::contents {

struct AssemblyInput {
    std::filesystem::path root;
    const rootfs::Manifest* manifest = nullptr;
    std::vector<std::string> files;  // from image_files(), or whole packages with small
    const plugin::ConfigureResult* configure = nullptr;
    Features features;
    std::vector<std::string> allow_setid;  // globs: the files that keep setuid/setgid
};

struct Assembly {
    std::vector<image::LayerEntry> entries;
    std::set<std::string> packages;          // packages with at least one file in the image
    std::vector<std::string> setid_dropped;  // files of the packages that lost setuid/setgid
};

Assembly assemble(const AssemblyInput& input);

// /etc/ssl/certs/ca-certificates.crt as update-ca-certificates builds it: every
// certificate below /usr/share/ca-certificates, in sorted order, concatenated.
std::string ca_bundle(const std::filesystem::path& root);

// The files of whole packages, less documentation, manual pages and locales.
std::vector<std::string> whole_package_files(const rootfs::Manifest& manifest);

// /etc/passwd and /etc/group: root, nobody and the template's users and groups.
std::string passwd_file(const std::vector<plugin::UserSpec>& users);
std::string group_file(const std::vector<plugin::GroupSpec>& groups,
                       const std::vector<plugin::UserSpec>& users);

}  // namespace dmc::contents
