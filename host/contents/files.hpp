// What goes into a micro image from the rootfs: the template's collected paths,
// trees and globs, the modules it dlopen()s, and the ELF closure of all of them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "plugin/hooks.hpp"
#include "rootfs/manifest.hpp"

namespace dmc::contents {

struct FilesRequest {
    std::filesystem::path root;
    const rootfs::Manifest* manifest = nullptr;
    plugin::CollectResult collected;
    std::string triplet, platform;
    std::string template_name;
};

// The manifest's paths matching a glob ('*' stays within one path component), sorted.
std::vector<std::string> glob_manifest(const rootfs::Manifest& manifest,
                                       const std::string& pattern);

// Sorted, unique image paths. Throws Error when an explicitly collected path does
// not exist or a needed library is missing.
std::vector<std::string> image_files(const FilesRequest& request);

}  // namespace dmc::contents
