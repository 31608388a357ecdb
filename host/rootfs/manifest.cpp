#include "rootfs/manifest.hpp"

#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "util/fs.hpp"

using nlohmann::json;

namespace dmc::rootfs {

void to_json(json& j, const PackageRecord& p) {
    j = {{"version", p.version}, {"arch", p.arch},           {"control", p.control},
         {"md5sums", p.md5sums}, {"conffiles", p.conffiles}, {"mtime", p.mtime},
         {"scripts", p.scripts}};
}

void from_json(const json& p, PackageRecord& r) {
    r.version = p.at("version").get<std::string>();
    r.arch = p.at("arch").get<std::string>();
    r.control = p.at("control").get<std::string>();
    r.md5sums = p.at("md5sums").get<std::string>();
    r.conffiles = p.at("conffiles").get<std::string>();
    r.mtime = p.value("mtime", std::int64_t{0});
    r.scripts = p.value("scripts", std::map<std::string, std::string>{});
}

void Manifest::save(const std::filesystem::path& file) const {
    json j;
    json& files_json = j["files"];
    files_json = json::object();
    for (const auto& [path, r] : files) {
        json e = {{"p", r.package}, {"t", std::string(1, r.type)},
                  {"m", r.mode},    {"u", r.uid},
                  {"g", r.gid},     {"s", r.size}};
        if (!r.sha256.empty()) e["h"] = r.sha256;
        if (!r.link.empty()) e["l"] = r.link;
        files_json[path] = e;
    }
    json& pkgs = j["packages"];
    pkgs = json::object();
    for (const auto& [name, p] : packages) pkgs[name] = p;
    write_file_atomic(file, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

Manifest Manifest::load(const std::filesystem::path& file) {
    Manifest m;
    try {
        json j = json::parse(read_file(file));
        for (const auto& [path, e] : j.at("files").items()) {
            FileRecord r;
            r.package = e.at("p").get<std::string>();
            r.type = e.at("t").get<std::string>().at(0);
            r.mode = e.at("m").get<std::uint32_t>();
            r.uid = e.at("u").get<std::uint32_t>();
            r.gid = e.at("g").get<std::uint32_t>();
            r.size = e.at("s").get<std::uint64_t>();
            if (e.contains("h")) r.sha256 = e.at("h").get<std::string>();
            if (e.contains("l")) r.link = e.at("l").get<std::string>();
            m.files.emplace(path, std::move(r));
        }
        for (const auto& [name, p] : j.at("packages").items())
            m.packages.emplace(name, p.get<PackageRecord>());
    } catch (const json::exception& e) {
        throw Error(file.string() + " is damaged (" + e.what() +
                    "); remove the rootfs and build again");
    }
    return m;
}

}  // namespace dmc::rootfs
