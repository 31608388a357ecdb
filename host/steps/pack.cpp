// The pack step: one deterministic layer, the image config and manifest of one
// arch, with its docker archive and SBOM next to the OCI layout.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "apt/deb822.hpp"
#include "arch/arch.hpp"
#include "contents/assemble.hpp"
#include "contents/licenses.hpp"
#include "contents/sbom.hpp"
#include "image/docker_archive.hpp"
#include "image/oci.hpp"
#include "log/log.hpp"
#include "rootfs/path.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::steps {
namespace {

// Everything the layer and image bytes depend on, hashed: files by the digests the
// assembly took from the rootfs manifest, so nothing is read again.
std::string pack_key(const image::LayerSpec& spec, const contents::Assembly& assembly,
                     const std::string& config, const std::string& tag) {
    Sha256 h;
    auto add = [&](const std::string& s) {
        h.update(s);
        h.update("\0", 1);
    };
    add("pack 2");
    add(config);
    add(tag);
    add(std::to_string(spec.mtime) + " " + std::to_string(static_cast<int>(spec.compression)));
    for (const auto& e : spec.entries) {
        add(e.path + " " + std::to_string(static_cast<int>(e.type)) + " " + std::to_string(e.mode) +
            " " + std::to_string(e.uid) + " " + std::to_string(e.gid) + " " + e.link_target);
        if (e.type == image::LayerEntry::Type::file) add(assembly.contents.at(e.path).sha256);
    }
    return h.hex();
}

// The image's one date: SOURCE_DATE_EPOCH, else the newest file date among the
// packages in the image. Never the clock.
std::int64_t epoch_of(const config::Settings& settings, const rootfs::Manifest& manifest,
                      const std::set<std::string>& packages) {
    if (settings.source_date_epoch) return *settings.source_date_epoch;
    std::int64_t newest = 0;
    for (const auto& name : packages)
        if (auto it = manifest.packages.find(name); it != manifest.packages.end())
            newest = std::max(newest, it->second.mtime);
    return newest;
}

// What the labels a template did not set say of the image's main package: its
// home page (url, source), its maintainer (vendor) and its license (DEP-5).
void describe_main_package(std::map<std::string, std::string>& labels, const fs::path& root,
                           const rootfs::Manifest& manifest, const std::string& name) {
    auto it = manifest.packages.find(name);
    if (it == manifest.packages.end()) return;
    const apt::Stanza control(it->second.control);
    const std::string homepage(apt::trim(control.get("Homepage")));
    std::string maintainer(apt::trim(control.get("Maintainer")));
    maintainer = std::string(apt::trim(maintainer.substr(0, maintainer.find('<'))));
    // The copyright file as the image would see it (a symlink resolves inside the root).
    std::string license;
    if (auto path = resolve_in_root(root, "/usr/share/doc/" + name + "/copyright")) {
        std::error_code ec;
        const fs::path file = root / path->substr(1);
        if (fs::is_regular_file(file, ec) && fs::file_size(file, ec) < (4u << 20))
            license = contents::spdx_license(read_file(file));
    }
    for (const auto& [key, value] : {std::pair{"url", homepage},
                                     {"source", homepage},
                                     {"vendor", maintainer},
                                     {"licenses", license}})
        if (!value.empty()) labels.emplace(std::string("org.opencontainers.image.") + key, value);
}

}  // namespace

ImageOutputs image_outputs(const Context& context, const std::string& tmpl,
                           const std::string& arch) {
    const auto& dir = context.settings.image_dir;
    const std::string name = tmpl + "-" + arch;
    return {child_path(dir, tmpl), child_path(dir, name + ".docker.tar"),
            child_path(dir, name + ".spdx.json"), child_path(dir, name + ".cdx.json")};
}

std::optional<image::Descriptor> built_image(const Context& context, const std::string& tmpl,
                                             const std::string& arch) {
    const fs::path record = context.work_dir(tmpl, arch) / "pack.json";
    const auto outputs = image_outputs(context, tmpl, arch);
    std::error_code ec;
    if (!fs::exists(record, ec)) return std::nullopt;
    try {
        auto desc = image::descriptor_from_json(json::parse(read_file(record)).at("manifest"));
        if (fs::exists(image::blob_path(outputs.layout, desc.digest), ec) &&
            (!context.settings.docker_archive || fs::exists(outputs.docker_archive, ec)) &&
            fs::exists(outputs.sbom, ec) && fs::exists(outputs.cyclonedx, ec))
            return desc;
    } catch (const std::exception&) {
    }
    return std::nullopt;  // packed again
}

void pack(Context& context, const tasks::Task& task) {
    // The layout holds the image; a docker archive holds its bytes again, so it is
    // written only when asked for, and one left from an earlier run is not kept stale.
    if (!context.settings.docker_archive) {
        std::error_code ec;
        fs::remove(image_outputs(context, task.template_name, task.arch).docker_archive, ec);
    }
    if (image_current(context, task.template_name, task.arch)) return;
    const auto& settings = context.settings;
    const fs::path dir = context.work_dir(task.template_name, task.arch);
    const fs::path rootfs = context.rootfs_dir(task.template_name, task.arch);
    const auto manifest = rootfs::Manifest::load(rootfs / "manifest.json");
    const auto configured = load_configure(dir);
    const auto prepared = load_prepare(dir);
    contents::AssemblyInput input;
    input.features = contents::Features::of(prepared.features, settings.tools, settings.small);
    input.root = rootfs / "root";
    input.manifest = &manifest;
    input.files = input.features.small ? contents::whole_package_files(manifest) : load_files(dir);
    input.configure = &configured;
    input.allow_setid = load_collect(dir).allow_setid;
    const auto& arch = arch::arch_info(task.arch);
    input.triplet = arch.triplet;
    input.ld_cache_flags = arch.ld_cache_flags;
    auto assembly = contents::assemble(input);
    for (const auto& path : assembly.setid_dropped)
        log::info(task.template_name + " " + task.arch + ": " + path +
                  " loses its setuid/setgid bits (a template keeps them with allow_setid)");

    image::LayerSpec spec;
    spec.entries = assembly.entries;
    spec.mtime = epoch_of(settings, manifest, assembly.packages);
    spec.compression =
        settings.compression == "zstd" ? image::Compression::zstd : image::Compression::gzip;

    const plugin::Template* tmpl = context.catalog.find(task.template_name);
    image::ImageConfig config;
    config.architecture = arch.oci;
    config.variant = arch.variant;
    config.created = spec.mtime;
    const auto& img = configured.image;
    config.entrypoint = img.entrypoint;
    if (img.cmd) config.cmd = *img.cmd;
    bool has_path = false;
    for (const auto& [k, v] : img.env) has_path = has_path || k == "PATH";
    if (!has_path)
        config.env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for (const auto& [k, v] : img.env) config.env.push_back(k + "=" + v);
    config.user = img.user;
    config.working_dir = img.workdir;
    config.exposed_ports = {img.ports.begin(), img.ports.end()};
    config.volumes = {img.volumes.begin(), img.volumes.end()};
    config.stop_signal = img.stop_signal;
    config.labels = img.labels;
    config.labels["org.opencontainers.image.title"] = task.template_name;
    config.labels["org.opencontainers.image.created"] = image::rfc3339_utc(spec.mtime);
    if (tmpl) config.labels["org.opencontainers.image.description"] = tmpl->description;
    std::string versions, main_package;
    for (const auto& name : prepared.packages) {
        auto it = manifest.packages.find(name);
        if (it == manifest.packages.end()) continue;
        if (versions.empty()) {
            config.labels["org.opencontainers.image.version"] = it->second.version;
            main_package = name;
        }
        versions += (versions.empty() ? "" : " ") + name + "=" + it->second.version;
    }
    if (!versions.empty()) config.labels["org.opencontainers.image.base.packages"] = versions;
    config.labels["org.opencontainers.image.base.name"] = "debian:" + settings.dist;
    describe_main_package(config.labels, rootfs / "root", manifest, main_package);
    if (tmpl)
        config.labels.emplace("org.opencontainers.image.revision",
                              tmpl->name + "-" + tmpl->version);

    const auto outputs = image_outputs(context, task.template_name, task.arch);
    const std::string name = task.template_name + "-" + task.arch;

    // Same layer and config as last time, with the outputs in place: nothing to write.
    const std::string key = pack_key(spec, assembly, image::config_json(config, {}), settings.tag);
    std::error_code ec;
    if (auto built = built_image(context, task.template_name, task.arch)) {
        if (json::parse(read_file(dir / "pack.json")).value("key", "") == key) {
            save_inputs(context, task.template_name, task.arch);
            log::notice(name + ": " + built->digest + ", unchanged");
            return;
        }
    }

    auto layer = image::write_layer(spec, dir / "layer.tar");
    auto manifest_desc = image::write_image(outputs.layout, config, {layer});
    if (settings.docker_archive)
        image::write_docker_archive(
            outputs.docker_archive, config, {layer},
            {"dmc/" + task.template_name + ":" + settings.tag + "-" + task.arch});
    const auto effects = load_effects(rootfs);
    contents::SbomInput sbom{name,
                             std::string("debian-") + settings.dist,
                             task.arch,
                             spec.mtime,
                             &manifest,
                             &assembly,
                             effects.applied,
                             effects.unfollowed};
    write_file_atomic(outputs.sbom, contents::spdx_json(sbom));
    write_file_atomic(outputs.cyclonedx, contents::cyclonedx_json(sbom));
    write_file_atomic(dir / "pack.json",
                      json{{"key", key},
                           {"manifest", image::descriptor_to_json(manifest_desc)},
                           {"annotations", image::image_annotations(config)},
                           {"tar_size", layer.tar_size},
                           {"size", layer.size},
                           {"packages", assembly.packages.size()}}
                          .dump(1));
    save_inputs(context, task.template_name, task.arch);
    log::notice(name + ": " + manifest_desc.digest + ", layer " + std::to_string(layer.size) +
                " bytes (" + std::to_string(layer.tar_size) + " uncompressed), " +
                std::to_string(assembly.packages.size()) + " packages");
}

}  // namespace dmc::steps
