// The why activity: why a package or a path is in a template's image, from what the
// image's last build recorded (its request, the collect and configure outputs, the
// files chosen, and the rootfs with its packages). Result lines, one answer per arch.
#include "contents/why.hpp"

#include "contents/features.hpp"
#include "log/log.hpp"
#include "rootfs/manifest.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

void why(Context& context, const tasks::Task& task) {
    const auto& t = task.template_name;
    const fs::path dir = context.work_dir(t, task.arch);
    std::error_code ec;
    if (!fs::is_regular_file(dir / "files.json", ec) ||
        !fs::is_regular_file(dir / "configure.json", ec))
        throw Error(t + " " + task.arch + " has not been built here; build it first: dmc -t " + t +
                    " -A " + task.arch);
    const auto prepare = load_prepare(dir);
    const auto collected = load_collect(dir);
    const auto configure = load_configure(dir);
    const fs::path rootfs = context.rootfs_dir(t, task.arch, true);
    const auto manifest = rootfs::Manifest::load(rootfs / "manifest.json");
    contents::WhyInput input{rootfs / "root", &manifest,       prepare.packages, &collected,
                             &configure,      load_files(dir), task.arch};
    const auto features =
        contents::Features::of(prepare.features, context.settings.tools, context.settings.small);
    for (const auto& p : features.packages()) input.requested.push_back(p);
    const auto lines = contents::why(input, context.arguments.at(0));
    log::result(t + " " + task.arch + ": " + lines.front());
    for (auto it = lines.begin() + 1; it != lines.end(); ++it) log::result(*it);
}

}  // namespace dmc::steps
