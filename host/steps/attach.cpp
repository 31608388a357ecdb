// The attach step: after the push, each SBOM of the image (SPDX and CycloneDX)
// becomes an OCI 1.1 artifact whose subject is the image index (every arch's
// SBOMs) or one arch's manifest (its own), so that `oras discover` and other
// clients of the referrers API find them. A registry that answers their push
// with OCI-Subject lists them itself; for one that does not, they are listed in
// the referrers tag schema's index ("sha256-<hex>" of the subject), keeping what
// other tools listed there and replacing what dmc listed before. They are written
// as an OCI layout next to the push record (referrers/) and pushed from there.
#include <algorithm>
#include <optional>
#include <set>

#include "image/layout_reader.hpp"
#include "log/log.hpp"
#include "registry/pull.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {
namespace {

constexpr std::string_view sbom_spdx_type = "application/spdx+json";
constexpr std::string_view sbom_cyclonedx_type = "application/vnd.cyclonedx+json";
// On each referrer dmc lists: the arch whose SBOM it is.
constexpr std::string_view sbom_arch_annotation = "dev.dmc.sbom.arch";

// Copies another tool's referrer (its manifest, config and layers, or an index and
// what it lists) from the registry into the layout, which must hold everything its
// referrers index names; false when the registry no longer has it.
bool copy_referrer(registry::Reader& reader, const fs::path& layout, const image::Descriptor& d) {
    const auto manifest = reader.manifest(d.digest);
    if (!manifest) return false;
    image::write_blob(layout, manifest->media_type, manifest->bytes);
    const auto doc = nlohmann::json::parse(manifest->bytes, nullptr, false);
    if (!doc.is_object()) return false;
    std::vector<nlohmann::json> blobs;
    if (doc.contains("config")) blobs.push_back(doc["config"]);
    for (const auto& l : doc.value("layers", nlohmann::json::array())) blobs.push_back(l);
    for (const auto& b : blobs) {
        const auto blob = image::descriptor_from_json(b);
        image::write_blob(layout, blob.media_type, reader.blob(blob.digest));
    }
    for (const auto& m : image::index_entries(manifest->bytes))  // a referrer that is an index
        if (!copy_referrer(reader, layout, m)) return false;
    return true;
}

struct Subject {
    image::Descriptor descriptor;          // the index or a manifest
    std::vector<image::Descriptor> sboms;  // its artifacts, as the referrers list names them
};

}  // namespace

void attach(Context& context, const tasks::Task& task) {
    const auto& s = context.settings;
    const std::string& tmpl = task.template_name;
    const PushedImage pushed = pushed_image(context, tmpl);
    const fs::path layout = pushed.record_dir / "referrers";
    fs::remove_all(layout);
    const auto empty = image::write_blob(layout, image::media_type_empty, "{}");

    // The subjects: the index, then each arch's manifest that dmc built here.
    std::vector<Subject> subjects{{pushed.index, {}}};
    std::map<std::string, image::Descriptor> refs;
    auto add_sbom = [&](Subject& subject, const std::string& arch, std::string_view type,
                        const fs::path& file) {
        auto blob = image::write_blob(layout, type, read_file(file));
        blob.annotations = {{"org.opencontainers.image.title", file.filename().string()}};
        // The referrers list copies the manifest's artifactType and annotations.
        const std::map<std::string, std::string> annotations{
            {std::string(sbom_arch_annotation), arch}};
        auto d = image::write_blob(
            layout, image::media_type_image_manifest,
            image::artifact_manifest_json(type, empty, {blob}, subject.descriptor, annotations));
        d.artifact_type = type;
        d.annotations = annotations;
        refs[d.digest.substr(d.digest.find(':') + 1)] = d;
        subject.sboms.push_back(d);
    };
    for (const auto& part : pushed_parts(context, tmpl, pushed)) {
        subjects.push_back({part.manifest, {}});
        const auto& arch = part.arch;
        const auto& outputs = part.outputs;
        for (const auto& [type, file] : {std::pair{sbom_spdx_type, &outputs.sbom},
                                         std::pair{sbom_cyclonedx_type, &outputs.cyclonedx}}) {
            add_sbom(subjects.front(), arch, type, *file);
            add_sbom(subjects.back(), arch, type, *file);
        }
    }
    if (refs.empty()) {
        log::notice("no SBOMs of " + tmpl + " to attach: " + pushed.repository + "@" +
                    pushed.index.digest + " lists no image dmc built here");
        return;
    }
    image::write_layout_index(layout, refs);

    // The artifacts by digest; the registry's answers say whether it lists them.
    const auto options = push_options(s);
    std::vector<registry::PushTarget> targets;
    for (const auto& [ref, d] : refs) targets.push_back({ref, {}});
    registry::PushStats stats;
    registry::push_layout(options, layout, tmpl, targets, &stats);
    std::vector<registry::PushTarget> lists;
    std::size_t listed_by_registry = 0;
    registry::Reader reader(options, tmpl);
    // Pushed now, the registry's answer says; pushed before, its referrers API does.
    std::optional<bool> api;
    for (const auto& subject : subjects) {
        const bool acknowledged =
            std::all_of(subject.sboms.begin(), subject.sboms.end(),
                        [&](const auto& d) { return stats.subject_processed.count(d.digest) > 0; });
        if (!acknowledged && !api) api = reader.has_referrers_api(subject.descriptor.digest);
        if (acknowledged || *api) {
            ++listed_by_registry;
            continue;
        }
        // The referrers tag schema: what others listed stays, dmc's own is replaced.
        const std::string tag = image::referrers_tag(subject.descriptor.digest);
        std::vector<image::Descriptor> listed = subject.sboms;
        if (const auto before = reader.manifest(tag)) {
            if (!image::is_index_media_type(before->media_type))
                throw Error(reader.where() + ":" + tag + " is no image index (" +
                            before->media_type + "), so it cannot list referrers; remove the tag");
            for (const auto& d : image::index_entries(before->bytes)) {
                const bool ours =
                    (d.artifact_type == sbom_spdx_type || d.artifact_type == sbom_cyclonedx_type) &&
                    d.annotations.count(std::string(sbom_arch_annotation));
                const bool same = std::any_of(listed.begin(), listed.end(),
                                              [&](const auto& l) { return l.digest == d.digest; });
                if (ours || same) continue;
                try {
                    if (copy_referrer(reader, layout, d)) listed.push_back(d);
                } catch (const Error& e) {
                    log::warning("left out the referrer " + d.digest + " of " + reader.where() +
                                 ":" + tag + ", which cannot be copied: " + e.what());
                }
            }
        }
        refs[tag] =
            image::write_blob(layout, image::media_type_image_index, image::index_json(listed));
        lists.push_back({tag, {tag}});
    }
    if (!lists.empty()) {
        image::write_layout_index(layout, refs);
        for (const auto& ref : registry::push_layout(options, layout, tmpl, lists))
            log::info("listed the SBOMs in " + ref);
    }
    log::notice("attached " + std::to_string(targets.size()) + " SBOM artifacts to " +
                pushed.repository + "@" + pushed.index.digest + " and its " +
                std::to_string(subjects.size() - 1) + " manifests as OCI referrers (" +
                (lists.empty() ? "the registry lists them"
                 : listed_by_registry == 0
                     ? "listed in the referrers tag schema: the registry has no referrers API"
                     : "some listed by the registry, the others in the referrers tag schema") +
                ")");
}

}  // namespace dmc::steps
