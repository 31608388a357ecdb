// The outputs of the hook steps, kept as JSON in the build directory between tasks.
#pragma once

#include <filesystem>

#include "plugin/hooks.hpp"

namespace dmc::build {

void save_prepare(const std::filesystem::path& dir, const plugin::PrepareResult& r);
plugin::PrepareResult load_prepare(const std::filesystem::path& dir);
void save_collect(const std::filesystem::path& dir, const plugin::CollectResult& r);
plugin::CollectResult load_collect(const std::filesystem::path& dir);
void save_configure(const std::filesystem::path& dir, const plugin::ConfigureResult& r);
plugin::ConfigureResult load_configure(const std::filesystem::path& dir);
void save_selection(const std::filesystem::path& dir, const std::vector<std::string>& files);
std::vector<std::string> load_selection(const std::filesystem::path& dir);

}  // namespace dmc::build
