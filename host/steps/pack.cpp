// The pack step: one deterministic layer, the image config and manifest of one
// arch, with its docker archive and SBOM next to the OCI layout.
#include <algorithm>
#include <future>
#include <memory>
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
#include "rootfs/unpack.hpp"
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

namespace {

// What an image is made of, worked out from the steps' saved outputs without writing
// anything: its files, its layer's spec, its config, and the key of it all.
struct Plan {
    fs::path rootfs;
    rootfs::Manifest manifest;
    contents::Assembly assembly;
    image::LayerSpec spec;
    image::ImageConfig config;
    std::string key;
};

void plan_image(Context& context, const std::string& tmpl_name, const std::string& arch_name,
                Plan& plan) {
    const auto& settings = context.settings;
    const fs::path dir = context.work_dir(tmpl_name, arch_name);
    plan.rootfs = context.rootfs_dir(tmpl_name, arch_name);
    plan.manifest = rootfs::Manifest::load(plan.rootfs / "manifest.json");
    const auto& manifest = plan.manifest;
    const auto configured = load_configure(dir);
    const auto prepared = load_prepare(dir);
    contents::AssemblyInput input;
    input.features = contents::Features::of(prepared.features, settings.tools, settings.small);
    input.root = plan.rootfs / "root";
    input.manifest = &manifest;
    input.files = input.features.small ? contents::whole_package_files(manifest) : load_files(dir);
    input.configure = &configured;
    input.allow_setid = load_collect(dir).allow_setid;
    const auto& arch = arch::arch_info(arch_name);
    input.triplet = arch.triplet;
    input.ld_cache_flags = arch.ld_cache_flags;
    plan.assembly = contents::assemble(input);

    image::LayerSpec& spec = plan.spec;
    spec.entries = plan.assembly.entries;
    spec.mtime = epoch_of(settings, manifest, plan.assembly.packages);
    spec.compression =
        settings.compression == "zstd" ? image::Compression::zstd : image::Compression::gzip;

    const plugin::Template* tmpl = context.catalog.find(tmpl_name);
    image::ImageConfig& config = plan.config;
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
    config.labels["org.opencontainers.image.title"] = tmpl_name;
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
    describe_main_package(config.labels, plan.rootfs / "root", manifest, main_package);
    if (tmpl)
        config.labels.emplace("org.opencontainers.image.revision",
                              tmpl->name + "-" + tmpl->version);
    plan.key = pack_key(spec, plan.assembly, image::config_json(config, {}), settings.tag);
}

// The image built last from the same layer and config, with its outputs in place.
std::optional<image::Descriptor> unchanged_image(Context& context, const std::string& tmpl,
                                                 const std::string& arch, const std::string& key) {
    auto built = built_image(context, tmpl, arch);
    if (built &&
        json::parse(read_file(context.work_dir(tmpl, arch) / "pack.json")).value("key", "") == key)
        return built;
    return std::nullopt;
}

}  // namespace

// The layer of an image this run packs later is written as soon as its configure
// step ends, on other cores, while the run goes on (the next arch's packages are
// unpacked meanwhile). The pack takes it if its inputs are still the same.
void start_layer(Context& context, const tasks::Task& configured) {
    const std::string image = configured.template_name + "/" + configured.arch;
    if (!context.layers_to_come.count(image)) return;
    // Only an image this run found out of date (and said so) is packed ahead.
    auto current = context.current.find(image);
    if (current == context.current.end() || current->second) return;
    auto plan = std::make_unique<Plan>();
    plan_image(context, configured.template_name, configured.arch, *plan);
    if (unchanged_image(context, configured.template_name, configured.arch, plan->key)) return;
    context.layers_to_come.erase(image);
    plan->spec.later_layers = !context.layers_to_come.empty();
    const fs::path out = context.work_dir(configured.template_name, configured.arch) / "layer.tar";
    context.layers_ahead[image] = {
        plan->key, std::async(std::launch::async, [spec = std::move(plan->spec), out] {
            return image::write_layer(spec, out);
        })};
}

namespace {

// The layer written ahead for this image, when it was made from the same inputs.
std::optional<image::LayerInfo> layer_written_ahead(Context& context, const std::string& tmpl,
                                                    const std::string& arch,
                                                    const std::string& key) {
    auto it = context.layers_ahead.find(tmpl + "/" + arch);
    if (it == context.layers_ahead.end()) return std::nullopt;
    Context::LayerAhead ahead = std::move(it->second);
    context.layers_ahead.erase(it);
    image::LayerInfo layer = ahead.layer.get();  // its failure is this pack's
    if (ahead.key != key) return std::nullopt;
    return layer;
}

// A packed image's tree keeps only the files its layer read: the rest of its links
// into the package store go, on another core while the run goes on (a build that
// needs them places the tree again). Not while another process uses the tree.
void slim(Context& context, const tasks::Task& task, const Plan& plan) {
    if (context.settings.keep_trees) return;
    auto alone = context.trees_to_slim(task.template_name, task.arch);
    if (!alone) return;
    std::vector<fs::path> keep;
    for (const auto& entry : plan.spec.entries)
        if (!entry.source.empty()) keep.push_back(entry.source);
    mark_slim(plan.rootfs);
    const std::string name = task.template_name + "-" + task.arch;
    context.slimming.push_back(
        std::async(std::launch::async, [root = plan.rootfs / "root", keep = std::move(keep), name,
                                        alone = std::shared_ptr<FileLock>(std::move(alone))] {
            const auto slimmed = rootfs::slim_tree(root, keep);
            log::info(name + ": its rootfs tree keeps only the image's files (" +
                      std::to_string(slimmed.files) + " others, " +
                      std::to_string(slimmed.bytes >> 20) + " MiB, taken out)");
        }));
}

// The store sheds what no tree links any more, once every tree slimmed is.
void start_shedding(Context& context) {
    context.shedding =
        std::async(std::launch::async, [store = context.settings.package_store(),
                                        slimming = std::move(context.slimming)]() mutable {
            for (auto& s : slimming) s.get();
            return rootfs::shed_store(store);
        });
    context.slimming.clear();
}

void pack_image(Context& context, const tasks::Task& task) {
    // The layout holds the image; a docker archive holds its bytes again, so it is
    // written only when asked for, and one left from an earlier run is not kept stale.
    if (!context.settings.docker_archive) {
        std::error_code ec;
        fs::remove(image_outputs(context, task.template_name, task.arch).docker_archive, ec);
    }
    if (image_current(context, task.template_name, task.arch)) return;
    const auto& settings = context.settings;
    const fs::path dir = context.work_dir(task.template_name, task.arch);
    Plan plan;
    plan_image(context, task.template_name, task.arch, plan);
    const auto& manifest = plan.manifest;
    const auto& assembly = plan.assembly;
    const auto& spec = plan.spec;
    const auto& config = plan.config;
    const fs::path& rootfs = plan.rootfs;
    for (const auto& path : assembly.setid_dropped)
        log::info(task.template_name + " " + task.arch + ": " + path +
                  " loses its setuid/setgid bits (a template keeps them with allow_setid)");

    const auto outputs = image_outputs(context, task.template_name, task.arch);
    const std::string name = task.template_name + "-" + task.arch;
    const std::string& key = plan.key;

    // Same layer and config as last time, with the outputs in place: nothing to write.
    if (auto built = unchanged_image(context, task.template_name, task.arch, key)) {
        save_inputs(context, task.template_name, task.arch);
        slim(context, task, plan);
        log::notice(name + ": " + built->digest + ", unchanged");
        return;
    }

    plan.spec.later_layers = !context.layers_to_come.empty();
    const auto effects = load_effects(rootfs);
    contents::SbomInput sbom{name,
                             std::string("debian-") + settings.dist,
                             task.arch,
                             spec.mtime,
                             &manifest,
                             &assembly,
                             effects.applied,
                             effects.unfollowed};
    // From here on only the layer reads the tree, and only the image's files: the
    // rest of it goes while the layer is written, and after the run's last image's,
    // what the store holds for no tree.
    slim(context, task, plan);
    if (context.packs_to_come == 0 && !context.slimming.empty()) start_shedding(context);
    std::optional<image::LayerInfo> ahead =
        layer_written_ahead(context, task.template_name, task.arch, key);
    if (ahead) log::info(name + ": its layer was written as soon as its configure step ended");
    const image::LayerInfo layer = ahead ? *ahead : image::write_layer(spec, dir / "layer.tar");
    auto manifest_desc = image::write_image(outputs.layout, config, {layer});
    if (settings.docker_archive)
        image::write_docker_archive(
            outputs.docker_archive, config, {layer},
            {"dmc/" + task.template_name + ":" + settings.tag + "-" + task.arch});
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

}  // namespace

void pack(Context& context, const tasks::Task& task) {
    context.layers_to_come.erase(task.template_name + "/" + task.arch);
    if (context.packs_to_come > 0) --context.packs_to_come;
    if (context.packs_to_come == 0)
        if (const auto ahead = context.store_ahead.finish(); ahead > 0)
            log::info("package store: " + std::to_string(ahead) +
                      " packages stored ahead of their images' rootfs steps");
    pack_image(context, task);
    if (context.packs_to_come > 0) return;
    if (!context.shedding.valid() && !context.slimming.empty()) start_shedding(context);
    if (!context.shedding.valid()) return;
    const auto shed = context.shedding.get();
    if (shed.files > 0)
        log::info("package store: " + std::to_string(shed.files) + " files no tree links (" +
                  std::to_string(shed.bytes >> 20) +
                  " MiB) removed; they are read again from their .debs when a tree needs them");
}

}  // namespace dmc::steps
