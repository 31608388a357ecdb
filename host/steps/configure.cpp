// The configure step: each template of the image writes its files, users and
// image settings, reading the rootfs where it needs to.
#include "contents/files.hpp"
#include "rootfs/manifest.hpp"
#include "rootfs/path.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

void configure(Context& context, const tasks::Task& task) {
    if (image_current(context, task.template_name, task.arch)) return;
    plugin::ConfigureResult result;
    const fs::path root = context.rootfs_dir(task.template_name, task.arch) / "root";
    auto reader = [&root](const std::string& path) -> std::optional<std::string> {
        auto real = resolve_in_root(root, path);
        std::error_code ec;
        if (!real || !fs::is_regular_file(root / real->substr(1), ec)) return std::nullopt;
        return read_file(root / real->substr(1));
    };
    const auto manifest =
        rootfs::Manifest::load(context.rootfs_dir(task.template_name, task.arch) / "manifest.json");
    auto lister = [&manifest](const std::string& pattern) {
        return contents::glob_manifest(manifest, pattern);
    };
    for (const auto* t : context.catalog.composition(task.template_name)) {
        const auto inherited_ports = result.image.ports.size();
        plugin::run_configure(*t, context.hook_settings(*t, task.arch, task.template_name), reader,
                              result, lister);
        // The ports an image publishes are those of the template on top: adminer
        // serves 8080, while php-fpm's 9000 stays inside the image.
        auto& ports = result.image.ports;
        if (ports.size() > inherited_ports)
            ports.erase(ports.begin(), ports.begin() + static_cast<long>(inherited_ports));
    }
    save_configure(context.work_dir(task.template_name, task.arch), result);
}

}  // namespace dmc::steps
