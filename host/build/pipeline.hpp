// Runs the tasks of a plan. Each step keeps its output in the build directory, so
// that a later run can resume from any task (-b) in a new process.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "plugin/hooks.hpp"
#include "plugin/registry.hpp"
#include "tasks/tasks.hpp"

namespace dmc::build {

class Pipeline {
public:
    Pipeline(const config::Settings& settings, const plugin::Registry& registry,
             std::vector<std::string> arguments);
    void execute(const tasks::Task& task);

    // The build directory of one template and arch.
    std::filesystem::path work_dir(const std::string& tmpl, const std::string& arch) const;
    plugin::HookSettings hook_settings(const plugin::Template& t, const std::string& arch) const;

private:
    void prepare(const tasks::Task& task);
    void collect(const tasks::Task& task);
    void configure(const tasks::Task& task);

    const config::Settings& settings_;
    const plugin::Registry& registry_;
    std::vector<std::string> arguments_;
};

}  // namespace dmc::build
