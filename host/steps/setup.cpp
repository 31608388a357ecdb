// The setup and update activities: the directories, then the signed indexes of
// each arch, fetched again (update's lock step then says what changed).
#include "log/log.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

void make_dirs(Context& context, const tasks::Task&) {
    const auto& s = context.settings;
    for (const auto& dir : {s.cache_dir, s.rootfs_dir, s.build_dir, s.image_dir, s.source_dir}) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) throw Error("cannot create " + dir.string() + ": " + ec.message());
    }
    auto& archive = context.archive();
    for (const auto& m : archive.mirrors())
        log::notice(
            "mirror " + m.url + " suites " +
            config::join(m.suites.empty() ? std::vector<std::string>{"{dist}"} : m.suites, " ") +
            " components " + config::join(m.components, " ") + ", keyring " +
            archive.keyring_of(m));
}

void refresh_indexes(Context& context, const tasks::Task& task) {
    const std::string& arch = task.arch;
    auto files = context.archive().indexes(arch, true);
    for (const auto& f : files)
        log::info("index " + f.mirror + " " + f.suite + " " + f.component + " " + arch +
                  " verified: " + f.path.string());
    log::notice(std::to_string(files.size()) + " verified indexes for " + context.settings.dist +
                " " + arch);
}

}  // namespace dmc::steps
