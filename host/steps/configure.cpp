// The configure step: each template of the image writes its files, users and
// image settings, reading the rootfs where it needs to.
#include "contents/files.hpp"
#include "rootfs/manifest.hpp"
#include "rootfs/path.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {
namespace {

// Each path the configure results write, with what they write there.
std::map<std::string, std::string> written(const plugin::ConfigureResult& r) {
    std::map<std::string, std::string> out;
    for (const auto& f : r.files)
        out[normalize_image_path(f.path)] = "file " + std::to_string(f.mode) + " " +
                                            std::to_string(f.uid) + ":" + std::to_string(f.gid) +
                                            " " + sha256_hex(f.data);
    for (const auto& d : r.dirs)
        out[normalize_image_path(d.path)] = "dir " + std::to_string(d.mode) + " " +
                                            std::to_string(d.uid) + ":" + std::to_string(d.gid);
    for (const auto& l : r.symlinks) out[normalize_image_path(l.path)] = "symlink " + l.target;
    return out;
}

}  // namespace

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
        const auto before = written(result);
        plugin::run_configure(*t, context.hook_settings(*t, task.arch, task.template_name), reader,
                              result, lister);
        // A path is the work of the last template that added or changed it.
        for (const auto& [path, what] : written(result))
            if (auto it = before.find(path); it == before.end() || it->second != what)
                result.written_by[path] = t->name;
        // The ports an image publishes are those of the template on top: adminer
        // serves 8080, while php-fpm's 9000 stays inside the image.
        auto& ports = result.image.ports;
        if (ports.size() > inherited_ports)
            ports.erase(ports.begin(), ports.begin() + static_cast<long>(inherited_ports));
    }
    save_configure(context.work_dir(task.template_name, task.arch), result);
    start_layer(context, task);
}

}  // namespace dmc::steps
