#include "build/pipeline.hpp"

#include <nlohmann/json.hpp>

#include "app/selection.hpp"
#include "build/selection.hpp"
#include "build/state.hpp"
#include "rootfs/manifest.hpp"
#include "rootfs/path.hpp"
#include "util/fs.hpp"
#include "log/log.hpp"
#include "util/error.hpp"
#include "util/name.hpp"

namespace fs = std::filesystem;

namespace dmc::build {

Pipeline::Pipeline(const config::Settings& settings, const plugin::Registry& registry,
                   std::vector<std::string> arguments)
    : settings_(settings), registry_(registry), arguments_(std::move(arguments)) {}

fs::path Pipeline::work_dir(const std::string& tmpl, const std::string& arch) const {
    return child_path(child_path(child_path(settings_.build_dir, settings_.dist), arch), tmpl);
}

plugin::HookSettings Pipeline::hook_settings(const plugin::Template& t, const std::string& arch,
                                             const std::string& image) const {
    plugin::HookSettings s{
        {"template", t.name},
        {"image_template", image},
        {"arch", arch},
        {"dist", settings_.dist},
        {"tools", settings_.tools ? "1" : "0"},
        {"mode", settings_.small ? "small" : "micro"},
        {"namespace", settings_.ns},
    };
    for (const auto& [k, v] : t.effective_options(settings_.template_options)) s["option." + k] = v;
    // The options of every template of the image, so that one can build on another's.
    for (const auto* member : app::composition(registry_, image))
        for (const auto& [k, v] : member->effective_options(settings_.template_options))
            s["option." + member->name + "." + k] = v;
    return s;
}

fs::path Pipeline::rootfs_dir(const std::string& tmpl, const std::string& arch) const {
    return child_path(child_path(child_path(settings_.rootfs_dir, settings_.dist), arch), tmpl);
}

void Pipeline::execute(const tasks::Task& task) {
    if (task.step == "dirs") return make_dirs();
    if (task.step == "setup") return refresh_indexes(task.arch, false);
    if (task.step == "update") return refresh_indexes(task.arch, true);
    if (task.step == "resolve") return resolve_arguments(task.arch);
    if (task.step == "rootfs") return rootfs(task);
    if (task.step == "pack") return pack(task);
    if (task.step == "index") return index(task);
    if (task.step == "push") return push(task);
    if (task.step == "prepare") return prepare(task);
    if (task.step == "collect") return collect(task);
    if (task.step == "configure") return configure(task);
    if (task.step == "delete")
        throw Error("removing " + task.template_name +
                    " from Kubernetes (-X) is not available in this version of dmc; "
                    "delete its objects with kubectl");
    throw Error("the step '" + task.step + "' is not available in this version of dmc");
}

void Pipeline::prepare(const tasks::Task& task) {
    plugin::PrepareResult result;
    for (const auto* t : app::composition(registry_, task.template_name))
        plugin::run_prepare(*t, hook_settings(*t, task.arch, task.template_name), result);
    save_prepare(work_dir(task.template_name, task.arch), result);
    log::info("packages of " + task.template_name + ": " + config::join(result.packages, " "));
}

void Pipeline::collect(const tasks::Task& task) {
    plugin::CollectResult result;
    for (const auto* t : app::composition(registry_, task.template_name))
        plugin::run_collect(*t, hook_settings(*t, task.arch, task.template_name), result);
    const fs::path dir = work_dir(task.template_name, task.arch);
    const auto prepared = load_prepare(dir);
    for (const auto& feature : prepared.features) {
        if (feature == "tzdata") result.paths.push_back("/usr/share/zoneinfo");
        if (feature == "ca-certificates") result.paths.push_back("/usr/share/ca-certificates");
    }
    save_collect(dir, result);

    const fs::path rootfs = rootfs_dir(task.template_name, task.arch);
    const auto manifest = rootfs::Manifest::load(rootfs / "manifest.json");
    const auto& arch = app::arch_info(task.arch);
    SelectionRequest request{rootfs / "root", &manifest, result, arch.triplet, arch.elf_machine,
                             task.template_name};
    auto files = select_files(request);
    save_selection(dir, files);
    log::info(task.template_name + " " + task.arch + ": " + std::to_string(files.size()) +
              " files selected");
}

void Pipeline::configure(const tasks::Task& task) {
    plugin::ConfigureResult result;
    const fs::path root = rootfs_dir(task.template_name, task.arch) / "root";
    auto reader = [&root](const std::string& path) -> std::optional<std::string> {
        auto real = resolve_in_root(root, path);
        std::error_code ec;
        if (!real || !fs::is_regular_file(root / real->substr(1), ec)) return std::nullopt;
        return read_file(root / real->substr(1));
    };
    const auto manifest = rootfs::Manifest::load(rootfs_dir(task.template_name, task.arch) / "manifest.json");
    auto lister = [&manifest](const std::string& pattern) { return glob_manifest(manifest, pattern); };
    for (const auto* t : app::composition(registry_, task.template_name)) {
        const auto inherited_ports = result.image.ports.size();
        plugin::run_configure(*t, hook_settings(*t, task.arch, task.template_name), reader, result, lister);
        // The ports an image publishes are those of the template on top: adminer
        // serves 8080, while php-fpm's 9000 stays inside the image.
        auto& ports = result.image.ports;
        if (ports.size() > inherited_ports)
            ports.erase(ports.begin(), ports.begin() + static_cast<long>(inherited_ports));
    }
    save_configure(work_dir(task.template_name, task.arch), result);
}

}  // namespace dmc::build
