// The setup and update activities: the directories, then the signed indexes of
// each arch; update also says which packages of the run's templates changed.
#include <map>

#include "log/log.hpp"
#include "steps/saved.hpp"
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

namespace {

// "name old -> new" on stdout for every package whose version changed.
void report_changes(const std::string& tmpl, const std::string& arch,
                    const std::vector<apt::PackageRef>& old,
                    const std::vector<apt::PackageRef>& now) {
    std::map<std::string, std::string> old_versions, new_versions;
    for (const auto& r : old) old_versions[r.name] = r.version;
    for (const auto& r : now) new_versions[r.name] = r.version;
    bool changed = false;
    for (const auto& [name, version] : new_versions) {
        auto it = old_versions.find(name);
        if (it == old_versions.end()) {
            log::result(tmpl + " " + arch + ": " + name + " (new) -> " + version);
            changed = true;
        } else if (it->second != version) {
            log::result(tmpl + " " + arch + ": " + name + " " + it->second + " -> " + version);
            changed = true;
        }
    }
    for (const auto& [name, version] : old_versions)
        if (!new_versions.count(name)) {
            log::result(tmpl + " " + arch + ": " + name + " " + version + " -> (gone)");
            changed = true;
        }
    if (!changed) log::notice(tmpl + " " + arch + ": no package changed");
}

}  // namespace

void refresh_indexes(Context& context, const tasks::Task& task) {
    const std::string& arch = task.arch;
    const bool update = task.step == tasks::Step::update;
    // What the run's templates resolved to before, to report what changes.
    std::map<std::string, std::vector<apt::PackageRef>> before;
    if (update)
        for (const auto& t : context.templates)
            if (auto saved = load_resolution(context.work_dir(t, arch)))
                before[t] = saved->packages;
    auto files = context.archive().indexes(arch, true);
    for (const auto& f : files)
        log::info("index " + f.mirror + " " + f.suite + " " + f.component + " " + arch +
                  " verified: " + f.path.string());
    log::notice(std::to_string(files.size()) + " verified indexes for " + context.settings.dist +
                " " + arch);
    for (const auto& [t, old] : before)
        report_changes(t, arch, old, resolve_template(context, t, arch, false));
}

}  // namespace dmc::steps
