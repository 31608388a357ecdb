// Why something is in an image, from what its build recorded: for a package, the
// chain of dependencies from the template's request to it, with the alternative
// taken at each OR-group and those not taken; for a path, the rule that put it in
// the image (collected by the template, a glob, a whole package, a dlopen'ed module,
// a library some ELF file needs, the loader an ELF file names, written by configure,
// a base file of every image), and then why its package is there.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "plugin/hooks.hpp"
#include "rootfs/manifest.hpp"

namespace dmc::contents {

struct WhyInput {
    std::filesystem::path root;  // the unpacked rootfs
    const rootfs::Manifest* manifest = nullptr;
    std::vector<std::string> requested;  // the packages the template and its features asked for
    const plugin::CollectResult* collected = nullptr;
    const plugin::ConfigureResult* configure = nullptr;
    std::vector<std::string> files;  // the files the collect step chose
    std::string arch;
};

// One line each, the answer first. Throws Error when WHAT is neither a package of
// the image's rootfs nor a path in it.
std::vector<std::string> why(const WhyInput& input, const std::string& what);

}  // namespace dmc::contents
