// The build from source, after the rootfs step: the template's source fetched and
// checked, built in the cached build environment for its dist and arch (isolated:
// source/isolate.hpp), and what it installs laid over the package tree as a tree
// of its own, owned by the source, for collect and the ELF closure.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "apt/relation.hpp"
#include "apt/sources.hpp"
#include "arch/arch.hpp"
#include "contents/features.hpp"
#include "log/log.hpp"
#include "rootfs/manifest.hpp"
#include "source/buildenv.hpp"
#include "source/isolate.hpp"
#include "source/source.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

namespace {

// The keyrings of Debian's uploaders (the debian-keyring package), when installed.
constexpr const char* kUploaderKeyrings[] = {"/usr/share/keyrings/debian-keyring.gpg",
                                             "/usr/share/keyrings/debian-maintainers.gpg"};

std::string machine_arch() {
    auto r = run_process({{find_executable("dpkg", "/usr/bin:/bin"), "--print-architecture"},
                          {},
                          std::string(),
                          true,
                          std::chrono::seconds(10)});
    std::string a = r.output.substr(0, r.output.find('\n'));
    if (r.status != 0 || a.empty()) throw Error("cannot tell this machine's Debian architecture");
    return a;
}

// /lib/x -> /usr/lib/x: where the merged-/usr tree keeps it.
std::string canonical_path(const std::string& path) {
    for (const auto& link : contents::merged_usr_links()) {
        const std::string dir = std::string("/") + link.dir;
        if (path == dir || path.starts_with(dir + "/")) return "/usr" + path;
    }
    return path;
}

void chown_tree(const fs::path& dir) {
    std::error_code ec;
    (void)::lchown(dir.c_str(), source::kBuildUid, source::kBuildUid);
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec))
        (void)::lchown(it->path().c_str(), source::kBuildUid, source::kBuildUid);
}

// The package tree with the installed files over it, in `tmp`.
void overlay(const fs::path& package_set, const fs::path& install, const fs::path& tmp,
             const std::string& package, const rootfs::PackageRecord& record) {
    fs::create_directories(tmp);
    fs::copy(package_set / "root", tmp / "root",
             fs::copy_options::recursive | fs::copy_options::copy_symlinks |
                 fs::copy_options::create_hard_links);
    auto manifest = rootfs::Manifest::load(package_set / "manifest.json");
    save_effects(tmp, load_effects(package_set));  // the scripts' effects on the packages
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(install);
         it != fs::recursive_directory_iterator(); ++it) {
        const std::string path = canonical_path("/" + fs::relative(it->path(), install).string());
        const fs::path target = tmp / "root" / path.substr(1);
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0)
            throw Error("cannot read " + it->path().string());
        rootfs::FileRecord rec;
        rec.package = package;
        rec.mode = st.st_mode & 07777;
        if (S_ISDIR(st.st_mode)) {
            fs::create_directories(target);
            rec.type = 'd';
            if (manifest.files.count(path)) continue;  // a directory packages share
        } else if (S_ISLNK(st.st_mode)) {
            fs::remove(target, ec);
            fs::create_directories(target.parent_path());
            rec.type = 'l';
            rec.mode = 0777;
            rec.link = fs::read_symlink(it->path()).string();
            fs::create_symlink(rec.link, target);
        } else if (S_ISREG(st.st_mode)) {
            fs::remove(target, ec);  // a hard link into the package tree: never written through
            fs::create_directories(target.parent_path());
            fs::copy_file(it->path(), target);
            rec.size = static_cast<std::uint64_t>(st.st_size);
            rec.sha256 = sha256_file(target);
        } else {
            throw Error("the build installed " + path + ", which is no file, directory or symlink");
        }
        manifest.files[path] = rec;
    }
    manifest.packages[package] = record;
    manifest.save(tmp / "manifest.json");
}

}  // namespace

source::BuildEnvRequest buildenv_request(Context& context, const std::string& tmpl,
                                         const std::string& arch, const source::Source& src) {
    const auto& settings = context.settings;
    const plugin::BuildSpec& b = load_prepare(context.work_dir(tmpl, arch)).build;
    auto& archive = context.archive();
    source::BuildEnvRequest env;
    env.dist = settings.dist;
    env.build_arch = machine_arch();
    env.host_arch = arch;
    for (const auto& m : archive.mirrors())
        for (const auto& suite : apt::suites_for(m, settings.dist)) {
            std::string line = "deb " + m.url + " " + suite;
            for (const auto& c : m.components) line += " " + c;
            env.sources.push_back(line);
        }
    env.depends = b.build_depends;
    if (env.depends.empty() && !src.build_depends.empty()) env.depends = {src.build_depends};
    env.cache_dir = settings.cache_dir;
    env.log_file = context.work_dir(tmpl, arch) / "buildenv.log";
    for (const auto& a : std::set<std::string>{env.build_arch, arch})
        for (const auto& f : archive.indexes(a, false))
            env.indexes +=
                f.mirror + " " + f.suite + " " + f.component + " " + a + " " + f.sha256 + "\n";
    env.timeout = std::chrono::seconds(settings.build_timeout);
    // A build dependency that no index of the dist has stops the build before
    // mmdebstrap spends a minute on a bootstrap that cannot end well.
    env.check = [&context, tmpl, arch, build_arch = env.build_arch, depends = env.depends] {
        auto& a = context.archive();
        const auto host = a.load(a.indexes(arch, false));
        const auto build = build_arch == arch ? nullptr : a.load(a.indexes(build_arch, false));
        auto known = [&](const apt::PackageIndex& index, const std::string& name) {
            return !index.versions(name).empty() || !index.providers(name).empty();
        };
        for (const auto& field : depends)
            for (const auto& group : apt::parse_relations(field, arch)) {
                const bool found = std::any_of(group.begin(), group.end(), [&](const auto& r) {
                    return known(*host, r.name) || (build && known(*build, r.name));
                });
                if (!found)
                    throw Error("template " + tmpl + " " + arch + ": the build dependency '" +
                                apt::to_string(group) + "' is in no index of " +
                                context.settings.dist +
                                "; check the template's build_depends, or the mirror's components");
            }
    };
    return env;
}

std::optional<source::Source> template_source(Context& context, const std::string& tmpl,
                                              const std::string& arch) {
    const plugin::BuildSpec& b = load_prepare(context.work_dir(tmpl, arch)).build;
    if (b.empty()) return std::nullopt;
    const auto* entry = context.lock().find(context.settings.dist, arch, tmpl);
    const auto locked = entry && entry->source && entry->source->name == b.source_package
                            ? entry->source
                            : std::nullopt;
    auto src = source::locate(context.archive(), b, locked ? locked->version : std::string());
    if (locked && src.files[0].sha256 != locked->sha256)
        throw Error("the source " + src.name + " " + src.version + " on the mirror (" + src.origin +
                    ") is not the one " + context.settings.lock_file.string() +
                    " has; run dmc -a update to take it");
    return src;
}

fs::path source_keyring(const config::Settings& settings) {
    if (!settings.source_keyring.empty()) {
        std::error_code ec;
        if (!fs::exists(settings.source_keyring, ec))
            throw Error("source_keyring " + settings.source_keyring +
                        " does not exist; install debian-keyring, or set it to a keyring file");
        return settings.source_keyring;
    }
    for (const char* k : kUploaderKeyrings)
        if (fs::exists(k)) return k;
    return {};
}

std::string build_from_source(Context& context, const std::string& tmpl, const std::string& arch,
                              const std::string& set) {
    const auto prepared = load_prepare(context.work_dir(tmpl, arch));
    const plugin::BuildSpec& b = prepared.build;
    auto located = template_source(context, tmpl, arch);
    if (!located) return set;
    auto& src = *located;
    const auto& settings = context.settings;
    source::fetch(context.archive(), src, settings.cache_dir, source_keyring(settings));
    const fs::path base = context.rootfs_base(tmpl, arch);
    const fs::path work = context.work_dir(tmpl, arch) / "source-build";
    const fs::path log_file = context.work_dir(tmpl, arch) / "source-build.log";
    const source::BuildEnvRequest env = buildenv_request(context, tmpl, arch, src);

    // The tree is named by everything that goes into it.
    std::string key_text =
        "build 1\n" + src.digest() + "\n" + source::buildenv_key(env) + "\n" + arch + "\n";
    for (const auto& [name, command] : b.steps) key_text += name + "\n" + command + "\n";
    std::string tree = set + "-src-" + sha256_hex(key_text).substr(0, 12);
    std::error_code ec;
    if (fs::exists(base / tree / "stamp", ec) && !is_slim(base / tree)) {
        fs::last_write_time(base / tree / "stamp", fs::file_time_type::clock::now(), ec);
        log::info(tmpl + " " + arch + ": built from source already (" + (base / tree).string() +
                  ")");
        return tree;
    }
    const fs::path root = source::ensure_buildenv(env);
    const fs::path src_dir = source::unpack(src, work);
    fs::create_directories(work / "install");
    chown_tree(work);

    const auto& info = arch::arch_info(arch);
    const auto& build_info = arch::arch_info(env.build_arch);
    const bool cross = arch != env.build_arch;
    const auto package_set = rootfs::Manifest::load(base / set / "manifest.json");
    std::int64_t epoch = 0;
    for (const auto& [name, p] : package_set.packages) epoch = std::max(epoch, p.mtime);
    const unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    const std::vector<std::string> vars = {
        std::string("DESTDIR=") + source::kBuildDir + "/install",
        "JOBS=" + std::to_string(jobs),
        "DEB_HOST_ARCH=" + arch,
        "DEB_BUILD_ARCH=" + env.build_arch,
        "DEB_HOST_GNU_TYPE=" + info.triplet,
        "DEB_BUILD_GNU_TYPE=" + build_info.triplet,
        "CROSS_COMPILE=" + (cross ? info.triplet + "-" : std::string()),
        "SOURCE_DATE_EPOCH=" + std::to_string(epoch),
    };
    const std::string cwd =
        std::string(source::kBuildDir) + "/" + fs::relative(src_dir, work).string();
    // Each step's output goes to its own log, then joins the build's log.
    std::ofstream log_out(log_file, std::ios::binary | std::ios::trunc);
    const fs::path step_log = context.work_dir(tmpl, arch) / "source-step.log";
    for (const auto& [name, command] : b.steps) {
        log::info(tmpl + " " + arch + ": build step " + name);
        auto run = source::run_isolated({root, work, cwd, command, vars,
                                         std::chrono::seconds(settings.build_timeout), step_log});
        log_out << "== " << name << ": " << command << "\n" << std::ifstream(step_log).rdbuf();
        log_out.flush();
        if (run.status != 0 || run.timed_out) {
            log::error(source::last_lines(run.output, 15));
            throw Error("template " + tmpl + " " + arch + ": build step '" + name + "' failed (" +
                        (run.timed_out
                             ? "time limit of " + std::to_string(settings.build_timeout) + " s"
                             : "exit " + std::to_string(run.status)) +
                        "); its log: " + log_file.string());
        }
    }
    log_out.close();
    fs::remove(step_log, ec);
    if (settings.log.dir) {
        fs::create_directories(*settings.log.dir, ec);
        fs::copy_file(log_file, *settings.log.dir / (tmpl + "-" + arch + "-build.log"),
                      fs::copy_options::overwrite_existing, ec);
    }

    const std::string& name = src.name;
    const std::string& version = src.version;
    rootfs::PackageRecord record;
    record.version = version;
    record.arch = arch;
    record.mtime = epoch;
    record.control = "Package: " + name + "\nVersion: " + version + "\nArchitecture: " + arch +
                     "\nMaintainer: dmc template " + tmpl + "\nX-Dmc-Source: " + src.origin +
                     "\nX-Dmc-Source-Sha256: " + src.files[0].sha256 + "\nDescription: " + name +
                     " " + version + " built from source by the dmc template " + tmpl + "\n";
    const fs::path tmp = temp_sibling(base / tree);
    fs::remove_all(tmp, ec);
    try {
        overlay(base / set, work / "install", tmp, name, record);
        write_file_atomic(tmp / "stamp", tree + "\n");
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
    fs::remove_all(base / tree, ec);
    fs::rename(tmp, base / tree);
    fs::remove_all(work, ec);
    log::notice(tmpl + " " + arch + ": built " + name + " " + version + " from " + src.origin);
    return tree;
}

}  // namespace dmc::steps
