#include "steps/context.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "arch/arch.hpp"
#include "log/log.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

Context::Context(const config::Settings& s, const plugin::Catalog& c, std::vector<std::string> args,
                 std::vector<std::string> tmpls)
    : settings(s), catalog(c), arguments(std::move(args)), templates(std::move(tmpls)) {
    // What a template that packs dmc itself (plugins/dmc) takes: this program, the
    // plugins it loaded and the machine's archive sources; the same for every hook.
    std::error_code ec;
    host_facts_["dmc_executable"] = fs::read_symlink("/proc/self/exe", ec).string();
    std::string plugins, sources;
    for (const auto& loaded : catalog.templates()) plugins += loaded.file.string() + "\n";
    host_facts_["dmc_plugins"] = plugins;
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator("/etc/apt/sources.list.d", ec))
        if (entry.path().extension() == ".list" || entry.path().extension() == ".sources")
            files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) sources += f + "\n";
    host_facts_["host_apt_sources"] = sources;
}

fs::path Context::work_dir(const std::string& tmpl, const std::string& arch) const {
    return child_path(child_path(child_path(settings.build_dir, settings.dist), arch), tmpl);
}

fs::path Context::rootfs_base(const std::string& tmpl, const std::string& arch) const {
    return child_path(child_path(child_path(settings.rootfs_dir, settings.dist), arch), tmpl);
}

fs::path Context::rootfs_dir(const std::string& tmpl, const std::string& arch,
                             bool any_options) const {
    const fs::path record = work_dir(tmpl, arch) / "rootfs.json";
    std::error_code ec;
    if (!fs::exists(record, ec))
        throw Error("no rootfs has been made for " + tmpl + " " + arch + " in " +
                    work_dir(tmpl, arch).string() + "; run its rootfs step first");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_file(record));
        const auto options = j.at("options").get<std::map<std::string, std::string>>();
        if (!any_options && options != image_options(*this, tmpl))
            throw Error("the rootfs of " + tmpl + " " + arch + " in " + record.string() +
                        " was made for other options; run from its rootfs step again");
        fs::path tree = child_path(rootfs_base(tmpl, arch), j.at("tree").get<std::string>());
        use_trees(tmpl, arch);
        if (!any_options && is_slim(tree))
            throw Error("the rootfs of " + tmpl + " " + arch + " in " + tree.string() +
                        " holds only its image's files since the image was packed; run from " +
                        "its rootfs step again");
        return tree;
    } catch (const nlohmann::json::exception&) {
        throw Error(record.string() + " is damaged; run from the rootfs step of " + tmpl + " " +
                    arch + " again");
    }
}

namespace {
fs::path trees_lock(const Context& context, const std::string& tmpl, const std::string& arch) {
    return context.rootfs_base(tmpl, arch).parent_path() / ("." + tmpl + ".use");
}
}  // namespace

void Context::use_trees(const std::string& tmpl, const std::string& arch) const {
    auto& held = trees_in_use_[tmpl + "/" + arch];
    if (!held)
        held = std::make_unique<FileLock>(trees_lock(*this, tmpl, arch), FileLock::Wait::yes,
                                          FileLock::Mode::shared);
}

std::unique_ptr<FileLock> Context::trees_to_slim(const std::string& tmpl, const std::string& arch) {
    trees_in_use_.erase(tmpl + "/" + arch);
    auto alone = std::make_unique<FileLock>(trees_lock(*this, tmpl, arch), FileLock::Wait::no);
    if (!alone->held()) return nullptr;
    return alone;
}

plugin::HookSettings Context::hook_settings(const plugin::Template& t, const std::string& arch,
                                            const std::string& image) const {
    plugin::HookSettings s{
        {"template", t.name},
        {"image_template", image},
        {"arch", arch},
        {"multiarch", arch::arch_info(arch).triplet},
        {"dist", settings.dist},
        {"tools", settings.tools ? "1" : "0"},
        {"mode", settings.small ? "small" : "micro"},
        {"namespace", settings.ns},
    };
    s.insert(host_facts_.begin(), host_facts_.end());
    for (const auto& [k, v] : t.effective_options(settings.template_options)) s["option." + k] = v;
    // The options of every template of the image, so that one can build on another's.
    for (const auto* member : catalog.composition(image))
        for (const auto& [k, v] : member->effective_options(settings.template_options))
            s["option." + member->name + "." + k] = v;
    return s;
}

lock::Lock& Context::lock() {
    if (!lock_) lock_ = settings.use_lock ? lock::Lock::load(settings.lock_file) : lock::Lock{};
    return *lock_;
}

bool Context::save_lock() {
    if (!settings.use_lock || !lock_ || !lock_->save(settings.lock_file)) return false;
    log::info("wrote the lock " + settings.lock_file.string());
    return true;
}

apt::Archive& Context::archive() {
    if (!archive_) {
        net::HttpOptions options;
        options.parallel = settings.jobs;
        options.retry.retries = settings.retries;
        options.retry.retry_time_s = settings.retry_time;
        options.transfer.stall_timeout_s = settings.stall_timeout;
        options.progress = true;
        http_ = std::make_unique<net::Http>(options);
        archive_ = std::make_unique<apt::Archive>(settings, *http_);
    }
    return *archive_;
}

}  // namespace dmc::steps
