#include "steps/saved.hpp"

#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::plugin {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BuildSpec, template_name, source_package,
                                                source_version, tarball_url, tarball_sha256,
                                                build_depends, steps)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PrepareResult, packages, excludes, features, build,
                                                alternatives)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CollectResult, paths, globs, dlopened,
                                                allow_missing, package_files, allow_setid)
// File contents may be binary, which JSON strings cannot carry: they are kept as hex.
void to_json(json& j, const FileSpec& f) {
    j = json{{"path", f.path},
             {"data_hex", to_hex(f.data)},
             {"mode", f.mode},
             {"uid", f.uid},
             {"gid", f.gid}};
}
void from_json(const json& j, FileSpec& f) {
    j.at("path").get_to(f.path);
    j.at("mode").get_to(f.mode);
    j.at("uid").get_to(f.uid);
    j.at("gid").get_to(f.gid);
    const auto hex = j.at("data_hex").get<std::string>();
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    f.data.clear();
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        f.data.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
}
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DirSpec, path, mode, uid, gid)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SymlinkSpec, target, path)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(GroupSpec, name, gid)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UserSpec, name, uid, gid, home, shell)

void to_json(json& j, const ImageSettings& s) {
    j = json{{"entrypoint", s.entrypoint},
             {"env", s.env},
             {"user", s.user},
             {"workdir", s.workdir},
             {"ports", s.ports},
             {"volumes", s.volumes},
             {"labels", s.labels},
             {"stop_signal", s.stop_signal}};
    if (s.cmd) j["cmd"] = *s.cmd;
}
void from_json(const json& j, ImageSettings& s) {
    j.at("entrypoint").get_to(s.entrypoint);
    j.at("env").get_to(s.env);
    j.at("user").get_to(s.user);
    j.at("workdir").get_to(s.workdir);
    j.at("ports").get_to(s.ports);
    j.at("volumes").get_to(s.volumes);
    j.at("labels").get_to(s.labels);
    j.at("stop_signal").get_to(s.stop_signal);
    if (j.contains("cmd")) s.cmd = j.at("cmd").get<std::vector<std::string>>();
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ConfigureResult, files, dirs, symlinks, removals,
                                                groups, users, image, written_by)

}  // namespace dmc::plugin

namespace dmc::apt {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PackageRef, name, version, arch, url, sha256, size, mirror,
                                   suite, component, filename)
}  // namespace dmc::apt

namespace dmc::steps {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Resolution, key, packages)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ScriptEffects, applied, unfollowed)
namespace {

template <class T>
void save(const fs::path& file, const T& value) {
    write_file_atomic(file, json(value).dump(1));
}

template <class T>
T load(const fs::path& file, const char* step) {
    std::error_code ec;
    if (!fs::exists(file, ec))
        throw Error("no output of the " + std::string(step) + " step in " +
                    file.parent_path().string() + "; run that task first (see -l)");
    try {
        return json::parse(read_file(file)).get<T>();
    } catch (const json::exception& e) {
        throw Error(file.string() + " is damaged (" + e.what() + "); run the " + step +
                    " task again");
    }
}

}  // namespace

void save_prepare(const fs::path& dir, const plugin::PrepareResult& r) {
    save(dir / "prepare.json", r);
}
plugin::PrepareResult load_prepare(const fs::path& dir) {
    return load<plugin::PrepareResult>(dir / "prepare.json", "prepare");
}
void save_collect(const fs::path& dir, const plugin::CollectResult& r) {
    save(dir / "collect.json", r);
}
plugin::CollectResult load_collect(const fs::path& dir) {
    return load<plugin::CollectResult>(dir / "collect.json", "collect");
}
void save_configure(const fs::path& dir, const plugin::ConfigureResult& r) {
    save(dir / "configure.json", r);
}
plugin::ConfigureResult load_configure(const fs::path& dir) {
    return load<plugin::ConfigureResult>(dir / "configure.json", "configure");
}

void save_effects(const fs::path& tree, const ScriptEffects& e) { save(tree / "effects.json", e); }
ScriptEffects load_effects(const fs::path& tree) {
    std::error_code ec;
    if (!fs::exists(tree / "effects.json", ec)) return {};
    return load<ScriptEffects>(tree / "effects.json", "rootfs");
}

void mark_slim(const fs::path& tree) { write_file_atomic(tree / "slim", ""); }
bool is_slim(const fs::path& tree) {
    std::error_code ec;
    return fs::exists(tree / "slim", ec);
}

void save_files(const fs::path& dir, const std::vector<std::string>& files) {
    save(dir / "files.json", files);
}
std::vector<std::string> load_files(const fs::path& dir) {
    return load<std::vector<std::string>>(dir / "files.json", "collect");
}

// Without the mirrors' credentials (resolve_template puts the configured ones back).
void save_resolution(const fs::path& dir, const Resolution& r) {
    Resolution written = r;
    for (auto& p : written.packages) {
        p.mirror = without_credentials(p.mirror);
        p.url = without_credentials(p.url);
    }
    save(dir / "resolution.json", written);
}
std::optional<Resolution> load_resolution(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir / "resolution.json", ec)) return std::nullopt;
    try {
        return json::parse(read_file(dir / "resolution.json")).get<Resolution>();
    } catch (const json::exception&) {
        return std::nullopt;  // resolved again
    }
}

}  // namespace dmc::steps
