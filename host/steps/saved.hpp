// The outputs of the hook steps, kept as JSON in the build directory between tasks.
#pragma once

#include <filesystem>
#include <optional>

#include "apt/archive.hpp"
#include "plugin/hooks.hpp"

namespace dmc::steps {

void save_prepare(const std::filesystem::path& dir, const plugin::PrepareResult& r);
plugin::PrepareResult load_prepare(const std::filesystem::path& dir);
void save_collect(const std::filesystem::path& dir, const plugin::CollectResult& r);
plugin::CollectResult load_collect(const std::filesystem::path& dir);
void save_configure(const std::filesystem::path& dir, const plugin::ConfigureResult& r);
plugin::ConfigureResult load_configure(const std::filesystem::path& dir);
void save_files(const std::filesystem::path& dir, const std::vector<std::string>& files);
std::vector<std::string> load_files(const std::filesystem::path& dir);

// What the packages' maintainer scripts would have done that dmc did to a rootfs
// tree, kept with it (effects.json): each effect, and each command it cannot follow.
struct ScriptEffects {
    std::vector<std::string> applied, unfollowed;
};
void save_effects(const std::filesystem::path& tree, const ScriptEffects& e);
ScriptEffects load_effects(const std::filesystem::path& tree);  // none for an older tree

// A rootfs tree that holds only its image's files (steps/pack, rootfs::slim_tree):
// marked before the first file goes, and never taken again as it is.
void mark_slim(const std::filesystem::path& tree);
bool is_slim(const std::filesystem::path& tree);

// The packages a template resolved to, with the key of what they were resolved from.
struct Resolution {
    std::string key;
    std::vector<apt::PackageRef> packages;
};
void save_resolution(const std::filesystem::path& dir, const Resolution& r);
std::optional<Resolution> load_resolution(
    const std::filesystem::path& dir);  // nullopt: none or damaged

}  // namespace dmc::steps
