// The pack and index steps: layer, image config, manifest per arch; then the
// image index over the archs, the OCI layout's index.json, docker archives, SBOMs.
#include <nlohmann/json.hpp>

#include <iostream>

#include "app/selection.hpp"
#include "build/assemble.hpp"
#include "build/pipeline.hpp"
#include "build/sbom.hpp"
#include "build/state.hpp"
#include "image/docker_archive.hpp"
#include "image/oci.hpp"
#include "log/log.hpp"
#include "util/error.hpp"
#include "util/name.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::build {
namespace {

json descriptor_json(const image::Descriptor& d) {
    json j = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
    if (d.platform)
        j["platform"] = {{"architecture", d.platform->architecture}, {"os", d.platform->os},
                         {"variant", d.platform->variant}};
    return j;
}

image::Descriptor descriptor_from(const json& j) {
    image::Descriptor d;
    d.media_type = j.at("mediaType").get<std::string>();
    d.digest = j.at("digest").get<std::string>();
    d.size = j.at("size").get<std::uint64_t>();
    if (j.contains("platform"))
        d.platform = image::Platform{j["platform"].at("architecture").get<std::string>(),
                                     j["platform"].at("os").get<std::string>(),
                                     j["platform"].at("variant").get<std::string>()};
    return d;
}

// Everything the layer and image bytes depend on, hashed: files by the digest the
// manifest recorded when they were unpacked, so nothing is read again.
std::string pack_key(const image::LayerSpec& spec, const rootfs::Manifest& manifest,
                     const std::string& config, const std::string& tag) {
    Sha256 h;
    auto add = [&](const std::string& s) {
        h.update(s);
        h.update("\0", 1);
    };
    add("pack 1");
    add(config);
    add(tag);
    add(std::to_string(spec.mtime) + " " + std::to_string(static_cast<int>(spec.compression)));
    for (const auto& e : spec.entries) {
        add(e.path + " " + std::to_string(static_cast<int>(e.type)) + " " + std::to_string(e.mode) +
            " " + std::to_string(e.uid) + " " + std::to_string(e.gid) + " " + e.link_target);
        if (e.type != image::LayerEntry::Type::file) continue;
        if (e.source.empty()) {
            add(sha256_hex(e.content));
            continue;
        }
        auto it = manifest.files.find(e.path);
        add(it != manifest.files.end() && !it->second.sha256.empty() ? it->second.sha256
                                                                     : sha256_file(e.source));
    }
    return h.hex();
}

}  // namespace

std::int64_t Pipeline::epoch_of(const rootfs::Manifest& manifest,
                                const std::set<std::string>& packages) const {
    if (settings_.source_date_epoch) return *settings_.source_date_epoch;
    // Never the clock: the newest file date among the packages in the image.
    std::int64_t newest = 0;
    for (const auto& name : packages)
        if (auto it = manifest.packages.find(name); it != manifest.packages.end())
            newest = std::max(newest, it->second.mtime);
    return newest;
}

void Pipeline::pack(const tasks::Task& task) {
    const fs::path dir = work_dir(task.template_name, task.arch);
    const fs::path rootfs = rootfs_dir(task.template_name, task.arch);
    const auto manifest = rootfs::Manifest::load(rootfs / "manifest.json");
    const auto configured = load_configure(dir);
    const auto prepared = load_prepare(dir);
    const bool small = settings_.small ||
                       std::find(prepared.features.begin(), prepared.features.end(), "small") !=
                           prepared.features.end();

    AssemblyInput input;
    input.root = rootfs / "root";
    input.manifest = &manifest;
    input.selection = small ? small_selection(manifest) : load_selection(dir);
    input.configure = &configured;
    input.tools = settings_.tools;
    input.small = small;
    input.features = prepared.features;
    auto assembly = assemble(input);

    image::LayerSpec spec;
    spec.entries = assembly.entries;
    spec.mtime = epoch_of(manifest, assembly.packages);
    spec.compression = settings_.compression == "zstd" ? image::Compression::zstd : image::Compression::gzip;

    const auto& arch = app::arch_info(task.arch);
    const plugin::Template* tmpl = registry_.find(task.template_name);
    image::ImageConfig config;
    config.architecture = arch.oci;
    config.variant = arch.variant;
    config.created = spec.mtime;
    const auto& img = configured.image;
    config.entrypoint = img.entrypoint;
    if (img.cmd) config.cmd = *img.cmd;
    bool has_path = false;
    for (const auto& [k, v] : img.env) has_path = has_path || k == "PATH";
    if (!has_path) config.env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
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
    std::string versions;
    for (const auto& name : prepared.packages) {
        auto it = manifest.packages.find(name);
        if (it == manifest.packages.end()) continue;
        if (versions.empty()) config.labels["org.opencontainers.image.version"] = it->second.version;
        versions += (versions.empty() ? "" : " ") + name + "=" + it->second.version;
    }
    if (!versions.empty()) config.labels["org.opencontainers.image.base.packages"] = versions;
    config.labels["org.opencontainers.image.base.name"] = "debian:" + settings_.dist;

    const fs::path layout = child_path(settings_.image_dir, task.template_name);
    const std::string name = task.template_name + "-" + task.arch;
    const fs::path docker_archive = child_path(settings_.image_dir, name + ".docker.tar");
    const fs::path sbom_file = child_path(settings_.image_dir, name + ".spdx.json");

    // Same layer and config as last time, with the outputs in place: nothing to write.
    const std::string key = pack_key(spec, manifest, image::config_json(config, {}), settings_.tag);
    std::error_code ec;
    if (fs::exists(dir / "pack.json", ec)) {
        auto previous = json::parse(read_file(dir / "pack.json"));
        auto desc = descriptor_from(previous.at("manifest"));
        if (previous.value("key", "") == key && fs::exists(image::blob_path(layout, desc.digest), ec) &&
            fs::exists(docker_archive, ec) && fs::exists(sbom_file, ec)) {
            log::notice(name + ": " + desc.digest + ", unchanged");
            return;
        }
    }

    auto layer = image::write_layer(spec, dir / "layer.tar");
    auto manifest_desc = image::write_image(layout, config, {layer});
    image::write_docker_archive(docker_archive, config, {layer},
                                {"dmc/" + task.template_name + ":" + settings_.tag + "-" + task.arch});
    SbomInput sbom{name, std::string("debian-") + settings_.dist, task.arch, spec.mtime, &manifest,
                   &assembly.entries};
    write_file_atomic(sbom_file, spdx_json(sbom));
    write_file_atomic(dir / "pack.json", json{{"key", key},
                                              {"manifest", descriptor_json(manifest_desc)},
                                              {"tar_size", layer.tar_size},
                                              {"size", layer.size},
                                              {"packages", assembly.packages.size()}}
                                             .dump(1));
    log::notice(name + ": " + manifest_desc.digest + ", layer " + std::to_string(layer.size) +
                " bytes (" + std::to_string(layer.tar_size) + " uncompressed), " +
                std::to_string(assembly.packages.size()) + " packages");
}

void Pipeline::index(const tasks::Task& task) {
    std::vector<image::Descriptor> manifests;
    for (const auto& arch : settings_.archs) {
        const fs::path file = work_dir(task.template_name, arch) / "pack.json";
        std::error_code ec;
        if (!fs::exists(file, ec))
            throw Error("no " + task.template_name + " image for " + arch + " yet; run " +
                        task.template_name + "." + arch + ".pack first (see -l)");
        manifests.push_back(descriptor_from(json::parse(read_file(file)).at("manifest")));
    }
    const fs::path layout = child_path(settings_.image_dir, task.template_name);
    auto index = image::write_image_index(layout, manifests);
    // The tag names the index over every arch; "<tag>-<arch>" names each image, for
    // clients that cannot pick a platform out of an index (umoci).
    std::map<std::string, image::Descriptor> refs{{settings_.tag, index}};
    for (std::size_t i = 0; i < manifests.size(); ++i)
        refs[settings_.tag + "-" + settings_.archs[i]] = manifests[i];
    image::write_layout_index(layout, refs);
    std::cout << task.template_name << " " << layout.string() << ":" << settings_.tag << " "
              << index.digest << "\n";
    std::cout.flush();
}

}  // namespace dmc::build
