// Path resolution inside a root directory (the unpacked packages), as a process
// chroot'ed there would see it. Nothing from the target is run, so symlinks are
// followed by hand: one component at a time, absolute targets taken relative to
// the root, ".." clamped at the root. No host path outside the root is ever
// looked at, whatever the links in the root say.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dmc {

// Lexical normalisation of an image path: a leading "/", no empty or "."
// components, ".." removed with the previous component and clamped at "/".
// No trailing "/" except for "/" itself. Does not look at any file.
std::string normalize_image_path(std::string_view image_path);

// The image path (normalized, starting with "/") of the object that
// `image_path` names inside `root`, following every symlink on the way (and
// the last component too when `follow_last`), or nullopt when it does not
// exist, a non-final component is not a directory, or more than 40 symlinks
// are traversed. ".." is applied physically, after the links before it, like
// the kernel does. A relative `image_path` is taken from "/".
std::optional<std::string> resolve_in_root(const std::filesystem::path& root,
                                           std::string_view image_path, bool follow_last = true);

// Every entry that resolving `image_path` goes through, in order: the image
// path of each symlink traversed (including directory links such as a
// merged-/usr "/lib" -> "usr/lib"), then the final object. Copying these
// entries into an image makes `image_path` resolve there as it does in `root`.
// Empty when `image_path` does not resolve. No entry appears twice.
std::vector<std::string> symlink_chain(const std::filesystem::path& root,
                                       std::string_view image_path);

}  // namespace dmc
