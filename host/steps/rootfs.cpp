// The rootfs step: the template's packages resolved, fetched into the cache and
// unpacked, without root and without maintainer scripts, into a tree of its own.
#include <algorithm>

#include "contents/features.hpp"
#include "log/log.hpp"
#include "rootfs/manifest.hpp"
#include "rootfs/unpack.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

void rootfs(Context& context, const tasks::Task& task) {
    auto refs = resolve_template(context, task.template_name, task.arch, false);
    log::info(task.template_name + " " + task.arch + ": " + std::to_string(refs.size()) +
              " packages");
    auto debs = context.archive().fetch(refs);

    // Unpack again only when the package set changed.
    // Bump the layout when unpacking changes, so old trees are unpacked again.
    std::string stamp_text = "layout 3\n";
    for (const auto& r : refs) stamp_text += r.sha256 + "\n";
    const std::string stamp = sha256_hex(stamp_text);
    const fs::path dir = context.rootfs_dir(task.template_name, task.arch);
    // Another dmc process may build the same rootfs: the second finds it done.
    FileLock lock(dir.parent_path() / ("." + task.template_name + ".lock"));
    std::error_code ec;
    if (fs::exists(dir / "stamp", ec) && read_file(dir / "stamp") == stamp) {
        log::info("rootfs " + dir.string() + " is up to date");
        return;
    }
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
    // base-files first: it creates the merged-/usr links the others unpack through.
    std::vector<std::size_t> order(refs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_partition(order.begin(), order.end(),
                          [&](std::size_t i) { return refs[i].name == "base-files"; });
    try {
        for (std::size_t i : order) {
            try {
                rootfs::unpack_deb(debs[i], tmp / "root", refs[i].name, manifest);
            } catch (const Error& e) {
                // A damaged file in the cache must not poison the next run.
                fs::remove(debs[i], ec);
                throw Error(std::string(e.what()) + "; it was removed from the cache");
            }
        }
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
}

}  // namespace dmc::steps
