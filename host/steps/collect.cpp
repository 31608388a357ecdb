// The collect step: each template of the image names what it takes from the
// rootfs, and the host adds the features' files and the ELF closure of it all.
#include "arch/arch.hpp"
#include "contents/features.hpp"
#include "contents/files.hpp"
#include "log/log.hpp"
#include "rootfs/manifest.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

void collect(Context& context, const tasks::Task& task) {
    if (image_current(context, task.template_name, task.arch)) return;
    plugin::CollectResult result;
    for (const auto* t : context.catalog.composition(task.template_name))
        plugin::run_collect(*t, context.hook_settings(*t, task.arch, task.template_name), result);
    const fs::path dir = context.work_dir(task.template_name, task.arch);
    const auto features = contents::Features::of(load_prepare(dir).features, context.settings.tools,
                                                 context.settings.small);
    for (const auto& path : features.collected_paths()) result.paths.push_back(path);
    save_collect(dir, result);

    const fs::path rootfs = context.rootfs_dir(task.template_name, task.arch);
    const auto manifest = rootfs::Manifest::load(rootfs / "manifest.json");
    const auto& arch = arch::arch_info(task.arch);
    contents::FilesRequest request{rootfs / "root", &manifest,        result,
                                   arch.triplet,    arch.elf_machine, task.template_name};
    auto files = contents::image_files(request);
    save_files(dir, files);
    log::info(task.template_name + " " + task.arch + ": " + std::to_string(files.size()) +
              " files selected");
}

}  // namespace dmc::steps
