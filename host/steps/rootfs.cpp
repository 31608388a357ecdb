// The rootfs step: the template's packages resolved, fetched into the cache and
// unpacked, without root and without maintainer scripts, into a tree of its own.
#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "arch/arch.hpp"
#include "contents/features.hpp"
#include "log/log.hpp"
#include "rootfs/accounts.hpp"
#include "rootfs/alternatives.hpp"
#include "rootfs/manifest.hpp"
#include "rootfs/unpack.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/parallel.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

namespace {

// The locked packages that are not in the cache, looked up on the mirrors: where the
// verified indexes still have them, from there; otherwise from the snapshot service
// at the moment of the Release they were locked from, or a clear refusal.
void locate_locked(Context& context, const std::string& tmpl, const std::string& arch,
                   std::vector<apt::PackageRef>& refs) {
    const auto& settings = context.settings;
    auto& archive = context.archive();
    std::vector<apt::PackageRef*> missing;
    for (auto& r : refs)
        if (!archive.cached(r)) missing.push_back(&r);
    const lock::Entry* entry = context.lock().find(settings.dist, arch, tmpl);
    if (missing.empty() || entry == nullptr) return;
    auto index = archive.load(archive.indexes(arch, false));
    for (auto* r : missing) {
        const auto versions = index->versions(r->name);
        auto found = std::find_if(versions.begin(), versions.end(), [&](const apt::Package* p) {
            return p->version() == r->version && p->sha256() == r->sha256;
        });
        if (found != versions.end()) {
            r->url = (*found)->url();
            continue;
        }
        const std::string what = r->name + " " + r->version + " (" + r->arch + ")";
        // Locked from a snapshot mirror (update --snapshot): that moment does not change.
        if (apt::is_snapshot_mirror(r->mirror) && archive.fetch_from(*r, r->url)) {
            log::info(what + ": fetched from the snapshot mirror it is locked to, " + r->mirror);
            continue;
        }
        if (settings.snapshot_url.empty())
            throw Error(what + " is locked in " + settings.lock_file.string() + ", but " +
                        r->mirror + " no longer has it; run `dmc -a update`, or give a snapshot " +
                        "mirror (snapshot_url)");
        // The snapshot at --snapshot DATE, else at the locked Release's date and the
        // hours after it (a service imports the archive some time after it changes).
        std::vector<std::string> dates;
        if (!settings.snapshot.empty()) dates.push_back(settings.snapshot);
        for (const auto& rel : entry->releases)
            if (rel.mirror == without_credentials(r->mirror) && rel.suite == r->suite)
                for (long long later : {0LL, 6 * 3600LL, 24 * 3600LL})
                    if (auto d = apt::snapshot_date_of(rel.date, later); !d.empty())
                        dates.push_back(d);
        bool fetched = false;
        for (const auto& date : dates) {
            const std::string mirror = apt::snapshot_mirror(settings.snapshot_url, r->mirror, date);
            if (archive.fetch_from(*r, mirror + "/" + r->filename)) {
                log::notice(what + " is no longer on " + r->mirror + "; fetched it from " + mirror);
                fetched = true;
                break;
            }
        }
        if (!fetched)
            throw Error(what + " is locked in " + settings.lock_file.string() + ", but neither " +
                        r->mirror + " nor the snapshot service " + settings.snapshot_url +
                        " has it; run `dmc -a update`, or give --snapshot DATE");
    }
}

// Fetches the packages into the cache, calling ready(i) once for each as it arrives.
// Locked packages are fetched from where the lock says, by its digests, as a cached
// one is used: the indexes are not needed for that. Only when a mirror no longer has
// one, or the lock names a mirror not configured now, are they looked up in the
// indexes (locate_locked).
void fetch_packages(Context& context, const std::string& tmpl, const std::string& arch,
                    std::vector<apt::PackageRef>& refs,
                    const std::function<void(std::size_t)>& ready = {}) {
    auto& archive = context.archive();
    std::vector<bool> handed(refs.size());
    auto once = [&](std::size_t i) {
        if (handed[i] || !ready) return;
        handed[i] = true;
        ready(i);
    };
    if (!context.settings.use_lock) {
        archive.fetch(refs, once);
        return;
    }
    const bool configured = std::all_of(refs.begin(), refs.end(), [&](const apt::PackageRef& r) {
        return archive.cached(r) ||
               std::any_of(archive.mirrors().begin(), archive.mirrors().end(),
                           [&](const config::Mirror& m) { return m.url == r.mirror; });
    });
    if (configured) try {
            archive.fetch(refs, once);
            return;
        } catch (const Error& e) {
            log::info(tmpl + " " + arch + ": " + e.what() +
                      "; looking the locked packages up in the indexes");
        }
    locate_locked(context, tmpl, arch, refs);
    archive.fetch(refs, once);
}

// Keeps the tree in use (and the build over it) and the two used last of a template's package sets,
// and removes the rest (and anything else in `base`: trees of an older layout).
void forget_old_trees(const fs::path& base, const std::string& in_use, const std::string& built) {
    constexpr std::size_t kKept = 2;
    std::vector<std::pair<fs::file_time_type, fs::path>> others;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(base, ec)) {
        const fs::path& p = entry.path();
        if (p.filename() == in_use || p.filename() == built) continue;
        const auto used = fs::last_write_time(p / "stamp", ec);
        if (ec || p.filename().string().starts_with('.'))
            fs::remove_all(p, ec);  // not a finished tree: a leftover or an old layout
        else
            others.emplace_back(used, p);
    }
    std::sort(others.begin(), others.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t i = kKept; i < others.size(); ++i) fs::remove_all(others[i].second, ec);
}

// What the packages' maintainer scripts would have done on a fresh install and dmc
// reproduces without running them: the diversions (rootfs/diversions, applied while
// unpacking), the alternatives (rootfs/alternatives) and the system users and groups
// (rootfs/accounts). What it did is kept with the tree, so
// that every build that uses the tree logs it and the SBOMs name it.
ScriptEffects apply_script_effects(const tasks::Task& task,
                                   const std::map<std::string, std::string>& pins,
                                   const rootfs::ScriptDiversions& diversions, const fs::path& root,
                                   rootfs::Manifest& manifest) {
    ScriptEffects effects;
    for (const auto& [file, d] : diversions.by_path)
        effects.applied.push_back("diversion " + file + " -> " + d.divert_to + " (" +
                                  (d.holder.empty() ? "local" : "held by " + d.holder) + ")");
    const auto order = rootfs::configure_order(manifest);
    const auto facts = rootfs::script_facts(task.arch, arch::arch_info(task.arch).triplet);
    auto report = [&](const std::vector<rootfs::UnfollowedCommand>& unfollowed) {
        for (const auto& u : unfollowed)
            effects.unfollowed.push_back(u.package + "'s " + u.script + " runs `" + u.command +
                                         "` (line " + std::to_string(u.line) +
                                         "), which dmc cannot follow without running it; its "
                                         "effect is not in the rootfs");
    };
    report(diversions.unfollowed);
    const auto read = rootfs::read_alternatives(manifest, order, facts);
    report(read.unfollowed);
    std::vector<rootfs::AlternativeSelection> chosen;
    try {
        chosen = rootfs::select_alternatives(root, read.choices, pins);
    } catch (const Error& e) {
        throw Error("template " + task.template_name + " (" + task.arch + "): " + e.what());
    }
    for (auto& note : rootfs::apply_alternatives(root, manifest, chosen))
        effects.applied.push_back(std::move(note));

    const auto accounts = rootfs::read_accounts(root, manifest, order, facts);
    report(accounts.unfollowed);
    for (const auto& line : accounts.created) effects.applied.push_back("system " + line);
    rootfs::write_accounts(root, manifest, accounts.accounts);
    return effects;
}

void log_script_effects(const tasks::Task& task, const fs::path& tree) {
    const std::string who = task.template_name + " " + task.arch + ": ";
    const ScriptEffects effects = load_effects(tree);
    for (const auto& line : effects.applied) log::info(who + line);
    for (const auto& line : effects.unfollowed) log::notice(who + line);
}

// The packages the lock gives this run's later images, never stored yet and with
// their .debs in the cache, stored ahead (rootfs/store_ahead) once the first rootfs
// step has begun; each step tells it where the run is.
void store_ahead(Context& context, const tasks::Task& task) {
    const auto& order = context.rootfs_order;
    const auto at = std::find(order.begin(), order.end(), task.template_name + "/" + task.arch);
    if (at == order.end()) return;
    const auto here = static_cast<std::size_t>(at - order.begin());
    context.store_ahead.reached(here);
    if (context.store_ahead.started() || here + 1 >= order.size()) return;
    const fs::path store = context.settings.package_store();
    std::vector<rootfs::StoreAhead::Package> packages;
    std::set<std::string> seen;
    std::error_code ec;
    for (std::size_t i = here + 1; i < order.size(); ++i) {
        const auto slash = order[i].find('/');
        const auto* locked = context.lock().find(context.settings.dist, order[i].substr(slash + 1),
                                                 order[i].substr(0, slash));
        if (!locked) continue;
        for (const auto& ref : locked_refs(*locked, context.archive().mirrors())) {
            const fs::path deb = context.archive().deb_path(ref);
            if (!seen.insert(ref.sha256).second || fs::exists(store / ref.sha256, ec) ||
                !fs::exists(deb, ec))
                continue;
            packages.push_back({i, ref.name, ref.sha256, deb});
        }
    }
    context.store_ahead.start(store, std::move(packages));
}

}  // namespace

void rootfs(Context& context, const tasks::Task& task) {
    store_ahead(context, task);
    if (image_current(context, task.template_name, task.arch)) return;
    auto refs = resolve_template(context, task.template_name, task.arch);
    log::info(task.template_name + " " + task.arch + ": " + std::to_string(refs.size()) +
              " packages");

    // One tree per package set, named by it: a run with other packages (-T, another
    // lock) unpacks beside it and never into it. Bump the layout when unpacking
    // changes, so old trees are unpacked again.
    const auto pins = load_prepare(context.work_dir(task.template_name, task.arch)).alternatives;
    std::string stamp_text = "layout 7\n";
    for (const auto& r : refs) stamp_text += r.sha256 + "\n";
    for (const auto& [name, path] : pins) stamp_text += "alternative " + name + " " + path + "\n";
    const std::string stamp = sha256_hex(stamp_text);
    const std::string set = stamp.substr(0, 16);
    const fs::path base = context.rootfs_base(task.template_name, task.arch);
    const fs::path dir = base / set;
    // Another dmc process may build the same rootfs: the second finds it done.
    FileLock lock(base.parent_path() / ("." + task.template_name + ".lock"));
    context.use_trees(task.template_name, task.arch);  // before a tree is judged whole
    const auto chosen = [&] {
        const std::string tree = build_from_source(context, task.template_name, task.arch, set);
        const auto options = image_options(context, task.template_name);
        write_file_atomic(context.work_dir(task.template_name, task.arch) / "rootfs.json",
                          nlohmann::json{{"tree", tree}, {"options", options}}.dump(1));
        forget_old_trees(base, set, tree);
    };
    auto& archive = context.archive();
    std::error_code ec;
    if (fs::exists(dir / "stamp", ec) && read_file(dir / "stamp") == stamp && !is_slim(dir)) {
        fetch_packages(context, task.template_name, task.arch,
                       refs);  // the cache keeps what the image is made of
        fs::last_write_time(dir / "stamp", fs::file_time_type::clock::now(), ec);
        log::info("rootfs " + dir.string() + " is up to date");
        log_script_effects(task, dir);
        chosen();
        return;
    }
    // Each package read once into the store, on every core: those in the cache at
    // once, the others as soon as their download ends, while the rest download; of
    // those waiting, the largest first, so that no core is left with a large one at
    // the end. A failed download is reported first; then the first failure to store,
    // in the packages' order, with its .deb removed from the cache (a damaged file
    // there must not poison the next run).
    const fs::path store = context.settings.package_store();
    if (is_slim(dir)) log::info(dir.string() + " holds only its image's files: placed again");
    auto store_lock = rootfs::store_in_use(store);
    std::vector<fs::path> debs(refs.size()), stored(refs.size());
    std::vector<std::optional<Error>> failed(refs.size());
    for (std::size_t i = 0; i < refs.size(); ++i) debs[i] = archive.deb_path(refs[i]);
    for_each_as_ready(
        [&](const auto& ready) {
            fetch_packages(context, task.template_name, task.arch, refs, ready);
        },
        [&](std::size_t i) {
            try {
                stored[i] = rootfs::store_deb(debs[i], store, refs[i].sha256, refs[i].name);
            } catch (const Error& e) {
                failed[i] = e;
            }
        },
        [&](std::size_t a, std::size_t b) { return refs[a].size > refs[b].size; });
    auto removed = [&](std::size_t i, const Error& e) {
        fs::remove(debs[i], ec);
        return Error(std::string(e.what()) + "; it was removed from the cache");
    };
    // base-files first: it creates the merged-/usr links the others unpack through.
    std::vector<std::size_t> order(refs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_partition(order.begin(), order.end(),
                          [&](std::size_t i) { return refs[i].name == "base-files"; });
    for (std::size_t i : order)
        if (failed[i]) throw removed(i, *failed[i]);

    const fs::path tmp = temp_sibling(dir);
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp / "root");
    rootfs::Manifest manifest;
    for (const auto& merged : contents::merged_usr_links()) {
        const std::string target = std::string("usr/") + merged.dir;
        fs::create_directory_symlink(target, tmp / "root" / merged.dir);
        rootfs::FileRecord link;
        link.type = 'l';
        link.mode = 0777;
        link.link = target;
        manifest.files["/" + std::string(merged.dir)] = link;
    }
    try {
        // The diversions the scripts add apply to whatever the packages unpack.
        rootfs::Manifest controls;
        for (std::size_t i : order)
            controls.packages[refs[i].name] = rootfs::stored_control(stored[i]);
        const auto facts = rootfs::script_facts(task.arch, arch::arch_info(task.arch).triplet);
        const auto diversions =
            rootfs::read_diversions(controls.packages, rootfs::configure_order(controls), facts);
        for (std::size_t i : order) {
            try {
                rootfs::place_deb(stored[i], tmp / "root", refs[i].name, manifest,
                                  diversions.by_path);
            } catch (const Error& e) {
                throw removed(i, e);
            }
        }
        save_effects(tmp, apply_script_effects(task, pins, diversions, tmp / "root", manifest));
        manifest.save(tmp / "manifest.json");
        write_file_atomic(tmp / "stamp", stamp);
    } catch (...) {
        fs::remove_all(tmp, ec);  // never leave a half-unpacked tree behind
        throw;
    }
    fs::remove_all(dir, ec);
    fs::rename(tmp, dir, ec);
    if (ec) {
        fs::remove_all(tmp, ec);
        throw Error("cannot move the rootfs into " + dir.string() + ": " + ec.message());
    }
    store_lock.reset();
    log_script_effects(task, dir);
    chosen();
    // Packages no tree uses any more leave the store a day after their last use.
    if (const auto n = rootfs::prune_store(store, std::chrono::hours(24)); n > 0)
        log::info("package store: " + std::to_string(n) + " packages no tree uses removed");
}

}  // namespace dmc::steps
