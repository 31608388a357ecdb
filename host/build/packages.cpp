// The archive steps: directories, indexes, resolving, fetching and unpacking.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "apt/resolver.hpp"
#include "app/selection.hpp"
#include "build/pipeline.hpp"
#include "build/state.hpp"
#include "log/log.hpp"
#include "rootfs/unpack.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::build {
namespace {

json to_json(const std::vector<apt::PackageRef>& refs) {
    json out = json::array();
    for (const auto& r : refs)
        out.push_back({{"name", r.name}, {"version", r.version}, {"arch", r.arch},
                       {"url", r.url}, {"sha256", r.sha256}, {"size", r.size}});
    return out;
}

std::vector<apt::PackageRef> refs_from_json(const json& j) {
    std::vector<apt::PackageRef> out;
    for (const auto& e : j)
        out.push_back({e.at("name").get<std::string>(), e.at("version").get<std::string>(),
                       e.at("arch").get<std::string>(), e.at("url").get<std::string>(),
                       e.at("sha256").get<std::string>(), e.at("size").get<std::uint64_t>()});
    return out;
}

}  // namespace

std::map<std::string, std::string> parse_lock_file(const std::string& text, const std::string& origin) {
    std::map<std::string, std::string> pins;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        std::replace(line.begin(), line.end(), '=', ' ');
        std::istringstream words(line);
        std::string name, version, extra;
        if (!(words >> name)) continue;
        if (!(words >> version) || (words >> extra))
            throw Error(origin + ":" + std::to_string(number) +
                        ": expected 'name version', got '" + line + "'");
        pins[name] = version;
    }
    return pins;
}

apt::Archive& Pipeline::archive() {
    if (!archive_) {
        net::HttpOptions options;
        options.parallel = settings_.jobs;
        options.retries = settings_.retries;
        options.retry_time_s = settings_.retry_time;
        options.stall_timeout_s = settings_.stall_timeout;
        options.progress = true;
        http_ = std::make_unique<net::Http>(options);
        archive_ = std::make_unique<apt::Archive>(settings_, *http_);
    }
    return *archive_;
}

void Pipeline::make_dirs() {
    for (const auto& dir : {settings_.cache_dir, settings_.rootfs_dir, settings_.build_dir,
                            settings_.image_dir, settings_.source_dir}) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) throw Error("cannot create " + dir.string() + ": " + ec.message());
    }
    for (const auto& m : archive().mirrors())
        log::notice("mirror " + m.url + " suites " + config::join(m.suites.empty() ? std::vector<std::string>{"{dist}"} : m.suites, " ") +
                    " components " + config::join(m.components, " ") + ", keyring " +
                    archive().keyring_of(m));
}

void Pipeline::refresh_indexes(const std::string& arch, bool report_changes) {
    // What the selected templates resolved to before, to report what changes.
    std::map<std::string, std::vector<apt::PackageRef>> before;
    if (report_changes) {
        for (const auto& t : templates_) {
            auto file = work_dir(t, arch) / "resolution.json";
            std::error_code ec;
            if (fs::exists(file, ec))
                before[t] = refs_from_json(json::parse(read_file(file)).at("packages"));
        }
    }
    auto files = archive().indexes(arch, true);
    std::size_t count = 0;
    for (const auto& f : files) {
        log::info("index " + f.mirror + " " + f.suite + " " + f.component + " " + arch +
                  " verified: " + f.path.string());
        ++count;
    }
    log::notice(std::to_string(count) + " verified indexes for " + settings_.dist + " " + arch);
    for (const auto& [t, old] : before) {
        auto now = resolve_template(t, arch, false);
        std::map<std::string, std::string> old_versions, new_versions;
        for (const auto& r : old) old_versions[r.name] = r.version;
        for (const auto& r : now) new_versions[r.name] = r.version;
        bool changed = false;
        for (const auto& [name, version] : new_versions) {
            auto it = old_versions.find(name);
            if (it == old_versions.end()) {
                std::cout << t << " " << arch << ": " << name << " (new) -> " << version << "\n";
                changed = true;
            } else if (it->second != version) {
                std::cout << t << " " << arch << ": " << name << " " << it->second << " -> " << version << "\n";
                changed = true;
            }
        }
        for (const auto& [name, version] : old_versions)
            if (!new_versions.count(name)) {
                std::cout << t << " " << arch << ": " << name << " " << version << " -> (gone)\n";
                changed = true;
            }
        if (!changed) log::notice(t + " " + arch + ": no package changed");
    }
}

void Pipeline::resolve_arguments(const std::string& arch) {
    auto files = archive().indexes(arch, false);
    auto index = archive().load(files);
    apt::ResolveRequest request;
    request.packages = arguments_;
    request.native_arch = arch;
    auto result = apt::resolve(index, request);
    for (const auto& problem : result.problems) log::warning(problem);
    for (const auto* p : result.packages)
        std::cout << p->name() << " " << p->version() << " " << p->architecture() << "\n";
    std::cout.flush();
}

std::vector<apt::PackageRef> Pipeline::resolve_template(const std::string& tmpl,
                                                        const std::string& arch, bool refresh) {
    const fs::path dir = work_dir(tmpl, arch);
    auto prepared = load_prepare(dir);
    apt::ResolveRequest request;
    request.packages = prepared.packages;
    request.excludes = prepared.excludes;
    request.native_arch = arch;
    for (const auto& feature : prepared.features) {
        if (feature == "ca-certificates" || feature == "tzdata") request.packages.push_back(feature);
    }
    if (settings_.tools) request.packages.push_back("busybox-static");
    // base-files names the distribution (/etc/os-release, /etc/debian_version) for
    // the image and for vulnerability scanners.
    request.packages.push_back("base-files");

    std::string lock_text;
    if (!settings_.lock_file.empty()) {
        lock_text = read_file(settings_.lock_file);
        request.pins = parse_lock_file(lock_text, settings_.lock_file.string());
    }

    auto files = archive().indexes(arch, refresh);
    // The same indexes and request resolve the same way: keep the answer.
    std::string key_text = arch + "|" + lock_text;
    for (const auto& f : files)
        key_text += "|" + f.mirror + " " + f.suite + " " + f.component + " " + f.sha256;
    for (const auto& p : request.packages) key_text += "|+" + p;
    for (const auto& p : request.excludes) key_text += "|-" + p;
    const std::string key = sha256_hex(key_text);
    const fs::path cached = dir / "resolution.json";
    std::error_code ec;
    if (fs::exists(cached, ec)) {
        try {
            auto j = json::parse(read_file(cached));
            if (j.at("key") == key) return refs_from_json(j.at("packages"));
        } catch (const json::exception&) {
        }
    }
    auto index = archive().load(files);
    auto result = apt::resolve(index, request);
    for (const auto& problem : result.problems) log::warning(tmpl + " " + arch + ": " + problem);
    std::vector<apt::PackageRef> refs;
    for (const auto* p : result.packages) refs.push_back(apt::PackageRef::of(*p));
    write_file_atomic(cached, json{{"key", key}, {"packages", to_json(refs)}}.dump(1));
    return refs;
}

void Pipeline::rootfs(const tasks::Task& task) {
    auto refs = resolve_template(task.template_name, task.arch, false);
    log::info(task.template_name + " " + task.arch + ": " + std::to_string(refs.size()) + " packages");
    auto debs = archive().fetch(refs);

    // Unpack again only when the package set changed.
    // Bump the layout when unpacking changes, so old trees are unpacked again.
    std::string stamp_text = "layout 3\n";
    for (const auto& r : refs) stamp_text += r.sha256 + "\n";
    const std::string stamp = sha256_hex(stamp_text);
    const fs::path dir = rootfs_dir(task.template_name, task.arch);
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
    // The merged-/usr links that base-files (or debootstrap) would make: packages
    // ship under /usr, while ELF interpreters and scripts name /lib64, /bin, ...
    for (const char* dir : {"bin", "sbin", "lib", "lib64"}) {
        fs::create_directory_symlink(std::string("usr/") + dir, tmp / "root" / dir);
        rootfs::FileRecord link;
        link.type = 'l';
        link.mode = 0777;
        link.link = std::string("usr/") + dir;
        manifest.files["/" + std::string(dir)] = link;
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

}  // namespace dmc::build
