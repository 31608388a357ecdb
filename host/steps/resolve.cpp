// The resolve activity, and resolving a template's packages for the rootfs step: its
// prepare output and the features' packages, answered by the lock (dmc.lock) when it
// was made for the same request, else against the verified indexes and then locked.
#include <algorithm>
#include <set>

#include "apt/resolver.hpp"
#include "contents/features.hpp"
#include "log/log.hpp"
#include "source/source.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

void resolve(Context& context, const tasks::Task& task) {
    auto& archive = context.archive();
    auto index = archive.load(archive.indexes(task.arch, false));
    apt::ResolveRequest request;
    request.packages = context.arguments;
    request.native_arch = task.arch;
    auto result = apt::resolve(*index, request);
    for (const auto& problem : result.problems) log::warning(problem);
    for (const auto* p : result.packages)
        log::result(std::string(p->name()) + " " + std::string(p->version()) + " " +
                    std::string(p->architecture()));
}

namespace {

// The configured mirror that a mirror written down without credentials (the lock,
// resolution.json) stands for, with its credentials; else the mirror as written.
std::string configured_mirror(const std::string& written,
                              const std::vector<config::Mirror>& configured) {
    for (const auto& m : configured)
        if (without_credentials(m.url) == written) return m.url;
    return written;
}

}  // namespace

std::vector<apt::PackageRef> locked_refs(const lock::Entry& entry,
                                         const std::vector<config::Mirror>& configured) {
    std::vector<apt::PackageRef> refs;
    for (const auto& p : entry.packages) {
        const std::string mirror = configured_mirror(p.mirror, configured);
        apt::PackageRef r{p.name, p.version, p.arch, mirror + "/" + p.filename, p.sha256, p.size};
        r.mirror = mirror;
        r.suite = p.suite;
        r.component = p.component;
        r.filename = p.filename;
        refs.push_back(std::move(r));
    }
    return refs;
}

namespace {

// What the templates of the image ask for now.
apt::ResolveRequest request_of(Context& context, const std::string& tmpl, const std::string& arch) {
    auto prepared = load_prepare(context.work_dir(tmpl, arch));
    apt::ResolveRequest request;
    request.packages = prepared.packages;
    request.excludes = prepared.excludes;
    request.native_arch = arch;
    const auto features =
        contents::Features::of(prepared.features, context.settings.tools, context.settings.small);
    for (const auto& p : features.packages()) request.packages.push_back(p);
    return request;
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

lock::Entry entry_of(Context& context, const std::string& tmpl, const std::string& arch,
                     const apt::ResolveRequest& request,
                     const std::vector<apt::PackageRef>& packages,
                     const std::vector<apt::IndexFile>& files) {
    lock::Entry e;
    e.dist = context.settings.dist;
    e.arch = arch;
    e.image = tmpl;
    e.templates = image_templates(context, tmpl);
    e.options = image_options(context, tmpl);
    e.request = sorted_unique(request.packages);
    e.exclude = sorted_unique(request.excludes);
    std::set<std::pair<std::string, std::string>> used;
    // No credential of a mirror's URL goes into the lock (which is meant for version
    // control): mirrors are written without them.
    for (const auto& r : packages) {
        e.packages.push_back({r.name, r.version, r.arch, r.sha256, r.size,
                              without_credentials(r.mirror), r.suite, r.component, r.filename});
        used.insert({r.mirror, r.suite});
    }
    for (const auto& f : files)
        if (used.erase({f.mirror, f.suite}))
            e.releases.push_back(
                {without_credentials(f.mirror), f.suite, f.release_sha256, f.release_date});
    return e;
}

// What a build from source of the template starts from, for the lock: the locked
// source while the template asks for the same one (follow), else located anew.
std::optional<lock::Source> source_of(Context& context, const std::string& tmpl,
                                      const std::string& arch, const lock::Entry* locked,
                                      LockUse use) {
    const plugin::BuildSpec& b = load_prepare(context.work_dir(tmpl, arch)).build;
    if (b.empty()) return std::nullopt;
    if (locked && use == LockUse::follow && locked->source && b.tarball_url.empty() &&
        locked->source->name == b.source_package &&
        (b.source_version.empty() || b.source_version == locked->source->version))
        return locked->source;
    const auto s = source::locate(context.archive(), b);
    return lock::Source{s.name, s.version, without_credentials(s.origin), s.files[0].sha256};
}

}  // namespace

std::vector<apt::PackageRef> resolve_template(Context& context, const std::string& tmpl,
                                              const std::string& arch, LockUse use) {
    const auto& settings = context.settings;
    const fs::path dir = context.work_dir(tmpl, arch);
    auto request = request_of(context, tmpl, arch);
    auto& lock = context.lock();
    const lock::Entry* locked = lock.find(settings.dist, arch, tmpl);
    if (locked && use == LockUse::follow && locked->request == sorted_unique(request.packages) &&
        locked->exclude == sorted_unique(request.excludes)) {
        // The same request: the locked packages, whatever the indexes say now. The
        // templates' versions and options are recorded as they are now.
        auto refs = locked_refs(*locked, context.archive().mirrors());
        const auto templates = image_templates(context, tmpl);
        const auto options = image_options(context, tmpl);
        auto source = source_of(context, tmpl, arch, locked, use);
        if (locked->templates != templates || locked->options != options ||
            locked->source != source) {
            lock::Entry updated = *locked;
            updated.templates = templates;
            updated.options = options;
            updated.source = std::move(source);
            lock.put(std::move(updated));
            context.save_lock();
        }
        return refs;
    }

    auto& archive = context.archive();
    auto files = archive.indexes(arch, false);
    // When the templates ask for something else now, the versions locked before are
    // kept where the indexes still have them.
    std::string pins_text;
    if (locked && use == LockUse::follow) {
        log::notice(tmpl + " " + arch +
                    ": the templates ask for other packages than the lock has; resolving again");
        for (const auto& p : locked->packages) {
            request.pins[p.name] = p.version;
            pins_text += p.name + "=" + p.version + " ";
        }
    }
    // The same indexes and request resolve the same way: keep the answer.
    std::string key_text = arch + "|" + pins_text;
    for (const auto& f : files)
        key_text += "|" + f.mirror + " " + f.suite + " " + f.component + " " + f.sha256;
    for (const auto& p : request.packages) key_text += "|+" + p;
    for (const auto& p : request.excludes) key_text += "|-" + p;
    const std::string key = sha256_hex(key_text);
    std::vector<apt::PackageRef> refs;
    if (auto saved = load_resolution(dir); saved && saved->key == key) {
        refs = saved->packages;
        for (auto& r : refs) {
            r.mirror = configured_mirror(r.mirror, archive.mirrors());
            r.url = r.mirror + "/" + r.filename;
        }
    } else {
        auto index = archive.load(files);
        // A pin the indexes no longer have is dropped: that package is resolved anew.
        for (auto it = request.pins.begin(); it != request.pins.end();) {
            const auto versions = index->versions(it->first);
            const bool present = std::any_of(versions.begin(), versions.end(), [&](const auto* p) {
                return p->version() == it->second;
            });
            it = present ? std::next(it) : request.pins.erase(it);
        }
        auto result = apt::resolve(*index, request);
        for (const auto& problem : result.problems)
            log::warning(tmpl + " " + arch + ": " + problem);
        Resolution resolution{key, {}};
        for (const auto* p : result.packages)
            resolution.packages.push_back(apt::PackageRef::of(*p));
        save_resolution(dir, resolution);
        refs = resolution.packages;
    }
    {
        // With --no-lock the entry stays in memory: the provenance reads its Release files.
        const bool fresh = locked == nullptr;
        auto entry = entry_of(context, tmpl, arch, request, refs, files);
        entry.source = source_of(context, tmpl, arch, locked, use);
        lock.put(std::move(entry));
        if (use == LockUse::follow && settings.use_lock) {
            context.save_lock();
            if (fresh)
                log::notice(tmpl + " " + arch + ": " + std::to_string(refs.size()) +
                            " packages locked in " + settings.lock_file.string());
        }
    }
    return refs;
}

}  // namespace dmc::steps
