// Runs the tasks of a plan. Each step keeps its output in the build directory, so
// that a later run can resume from any task (-b) in a new process.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "apt/archive.hpp"
#include "rootfs/manifest.hpp"

#include "config/settings.hpp"
#include "plugin/hooks.hpp"
#include "plugin/registry.hpp"
#include "tasks/tasks.hpp"

namespace dmc::build {

// A lock file: "name version" (or "name=version") per line; '#' comments.
std::map<std::string, std::string> parse_lock_file(const std::string& text, const std::string& origin);

class Pipeline {
public:
    Pipeline(const config::Settings& settings, const plugin::Registry& registry,
             std::vector<std::string> arguments);
    void execute(const tasks::Task& task);

    // The build directory of one template and arch.
    std::filesystem::path work_dir(const std::string& tmpl, const std::string& arch) const;
    // `image` is the template whose image is built; `t` may be one it builds on.
    plugin::HookSettings hook_settings(const plugin::Template& t, const std::string& arch,
                                       const std::string& image) const;

    // Where the unpacked packages of a template and arch live.
    std::filesystem::path rootfs_dir(const std::string& tmpl, const std::string& arch) const;

private:
    // Hook steps (pipeline.cpp).
    void prepare(const tasks::Task& task);
    void collect(const tasks::Task& task);
    void configure(const tasks::Task& task);
    // Archive steps (packages.cpp).
    void make_dirs();
    void refresh_indexes(const std::string& arch, bool report_changes);
    void resolve_arguments(const std::string& arch);
    void rootfs(const tasks::Task& task);
    std::vector<apt::PackageRef> resolve_template(const std::string& tmpl, const std::string& arch,
                                                  bool refresh);
    apt::Archive& archive();
    // Output steps (output.cpp).
    void pack(const tasks::Task& task);
    void index(const tasks::Task& task);
    std::int64_t epoch_of(const rootfs::Manifest& manifest, const std::set<std::string>& packages) const;
    // Push step (push.cpp).
    void push(const tasks::Task& task);

    const config::Settings& settings_;
    const plugin::Registry& registry_;
    std::vector<std::string> arguments_;
    std::vector<std::string> templates_;  // the selection, for update's report
    std::unique_ptr<net::Http> http_;
    std::unique_ptr<apt::Archive> archive_;

public:
    void set_templates(std::vector<std::string> templates) { templates_ = std::move(templates); }
};

}  // namespace dmc::build
