// The sign step: after the push, every pushed index and manifest of the template
// gets a cosign signature and two attestations in the registry: the SLSA
// provenance of its build and its SBOMs (SPDX and CycloneDX), each an in-toto statement in a DSSE
// envelope signed with the same key. They are written as an OCI layout next to
// the push record (attachments/, one image per "sha256-<hex>.sig"/".att" tag) and
// pushed from there.
#include <nlohmann/json.hpp>

#include "image/layout_reader.hpp"
#include "log/log.hpp"
#include "registry/pull.hpp"
#include "sign/cosign.hpp"
#include "sign/dsse.hpp"
#include "sign/key.hpp"
#include "sign/statement.hpp"
#include "steps/steps.hpp"
#include "util/base64.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::steps {
namespace {

constexpr std::string_view sbom_spdx_type = "application/spdx+json";
constexpr std::string_view sbom_cyclonedx_type = "application/vnd.cyclonedx+json";
// On each referrer dmc lists: the arch whose SBOM it is.
constexpr std::string_view sbom_arch_annotation = "dev.dmc.sbom.arch";

json read_json(const fs::path& file, const std::string& what) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw Error("no " + what + " in " + file.string());
    try {
        return json::parse(read_file(file));
    } catch (const json::exception& e) {
        throw Error(what + " " + file.string() + " is damaged (" + e.what() +
                    "); build the image again");
    }
}

// The provenance predicate of the image over its archs' build records.
json provenance(const Context& context, const std::string& tmpl) {
    const auto& s = context.settings;
    sign::Provenance p;
    p.dmc_version = DMC_VERSION;
    json builds = json::object();
    json programs = json::object();
    for (const auto& arch : s.archs) {
        const json record = read_json(build_record_file(context, tmpl, arch),
                                      "record of the " + tmpl + " " + arch + " build");
        builds[arch] = {{"command", record.at("command")}, {"options", record.at("options")}};
        programs[arch] = record.at("program");
        for (const auto& [name, t] : record.at("templates").items())
            p.materials.push_back({"",
                                   "template " + name + " " + t.at("version").get<std::string>() +
                                       " (" + t.at("file").get<std::string>() + ")",
                                   t.at("sha256").get<std::string>(),
                                   {}});
        for (const auto& r : record.at("releases"))
            p.materials.push_back({r.at("uri").get<std::string>(),
                                   "",
                                   r.at("sha256").get<std::string>(),
                                   {{"date", r.at("date").get<std::string>()}}});
        for (const auto& pkg : record.at("packages"))
            p.materials.push_back({pkg.at("uri").get<std::string>(),
                                   pkg.at("name").get<std::string>() + "_" +
                                       pkg.at("version").get<std::string>() + "_" +
                                       pkg.at("arch").get<std::string>(),
                                   pkg.at("sha256").get<std::string>(),
                                   {}});
    }
    p.external_parameters = {{"template", tmpl},
                             {"dist", s.dist},
                             {"tag", s.tag},
                             {"archs", s.archs},
                             {"builds", builds}};
    p.internal_parameters = {{"dmc", programs}};
    return sign::slsa_predicate(p);
}

sign::Attachment attestation(const std::string& statement, std::string_view predicate_type,
                             const sign::PrivateKey& key) {
    return {std::string(sign::dsse_media_type),
            sign::envelope(sign::in_toto_payload_type, statement, key),
            {{std::string(sign::signature_annotation), ""},
             {std::string(sign::predicate_type_annotation), std::string(predicate_type)}}};
}

// Copies another tool's referrer (its manifest, config and layers, or an index and
// what it lists) from the registry
// into the layout, which must hold everything its referrers index names; false when
// the registry no longer has it.
bool copy_referrer(registry::Reader& reader, const fs::path& layout, const image::Descriptor& d) {
    const auto manifest = reader.manifest(d.digest);
    if (!manifest) return false;
    image::write_blob(layout, manifest->media_type, manifest->bytes);
    const json doc = json::parse(manifest->bytes, nullptr, false);
    if (!doc.is_object()) return false;
    std::vector<json> blobs;
    if (doc.contains("config")) blobs.push_back(doc["config"]);
    for (const auto& l : doc.value("layers", json::array())) blobs.push_back(l);
    for (const auto& b : blobs) {
        const auto blob = image::descriptor_from_json(b);
        image::write_blob(layout, blob.media_type, reader.blob(blob.digest));
    }
    for (const auto& m : image::index_entries(manifest->bytes))  // a referrer that is an index
        if (!copy_referrer(reader, layout, m)) return false;
    return true;
}

}  // namespace

void sign(Context& context, const tasks::Task& task) {
    const auto& s = context.settings;
    const std::string& tmpl = task.template_name;
    const auto key = sign::PrivateKey::load(s.sign_key);
    const fs::path layout = child_path(s.image_dir, tmpl);
    const auto index = image::find_ref(layout, s.tag);

    // The image as pushed: the record names the repository and the digest.
    const fs::path record_file = pushed_record(s, tmpl);
    const json record = read_json(record_file, "record of the " + tmpl + " push");
    const std::string image = record.at("image").get<std::string>();
    const auto at = image.find('@');
    if (at == std::string::npos || image.substr(at + 1) != index.digest)
        throw Error(tmpl + " in " + layout.string() + " is not the image pushed last (" + image +
                    "); push it first: dmc -t " + tmpl + " -a load -H " + s.registry);
    const std::string repo = image.substr(0, at);

    // Each arch's manifest, with its SBOM.
    struct Part {
        std::string arch, digest;
        json spdx, cyclonedx;
        fs::path spdx_file, cyclonedx_file;
    };
    std::vector<Part> parts;
    for (const auto& arch : s.archs) {
        const auto built = built_image(context, tmpl, arch);
        if (!built) throw Error("no " + tmpl + " image for " + arch + "; build it first");
        const auto outputs = image_outputs(context, tmpl, arch);
        parts.push_back({arch, built->digest, read_json(outputs.sbom, "SBOM"),
                         read_json(outputs.cyclonedx, "SBOM"), outputs.sbom, outputs.cyclonedx});
    }

    std::vector<sign::Subject> subjects{{repo, index.digest}};
    for (const auto& p : parts) subjects.push_back({repo, p.digest});
    const auto provenance_att =
        attestation(sign::statement(subjects, sign::slsa_provenance_v1, provenance(context, tmpl)),
                    sign::slsa_provenance_v1, key);
    // Each arch's SBOMs, SPDX and CycloneDX, about its manifest and the index.
    std::map<std::string, std::vector<sign::Attachment>> sboms;
    for (const auto& p : parts) {
        const std::vector<sign::Subject> about{{repo, index.digest}, {repo, p.digest}};
        for (const auto& [type, document] :
             {std::pair{sign::spdx_document, &p.spdx}, {sign::cyclonedx_bom, &p.cyclonedx}})
            sboms[p.arch].push_back(
                attestation(sign::statement(about, type, *document), type, key));
    }

    // One signature image and one attestation image per digest: the index carries
    // every arch's SBOM, a manifest its own.
    const fs::path attached = record_file.parent_path() / "attachments";
    std::map<std::string, image::Descriptor> refs;
    auto attach = [&](const std::string& digest, const std::vector<sign::Attachment>& atts) {
        const std::string payload = sign::simple_signing_payload(repo, digest);
        refs[sign::attachment_tag(digest, sign::signature_suffix)] = sign::write_attachments(
            attached,
            {{std::string(sign::simple_signing_media_type),
              payload,
              {{std::string(sign::signature_annotation), base64_encode(key.sign(payload))}}}});
        refs[sign::attachment_tag(digest, sign::attestation_suffix)] =
            sign::write_attachments(attached, atts);
    };
    std::vector<sign::Attachment> all{provenance_att};
    for (const auto& p : parts) all.insert(all.end(), sboms[p.arch].begin(), sboms[p.arch].end());
    attach(index.digest, all);
    for (const auto& p : parts) {
        std::vector<sign::Attachment> own{provenance_att};
        own.insert(own.end(), sboms[p.arch].begin(), sboms[p.arch].end());
        attach(p.digest, own);
    }
    // The SBOMs as OCI 1.1 referrers too (for oras discover and the like): an artifact
    // per SBOM about the index (every arch's) and about each manifest (its own), listed
    // in the referrers tag schema's index of each subject. What other tools listed
    // there is kept; dmc's earlier SBOMs of the same kind are replaced.
    registry::Reader reader(push_options(s), tmpl);
    const auto empty = image::write_blob(attached, image::media_type_empty, "{}");
    auto refer = [&](const image::Descriptor& subject, const std::vector<const Part*>& of) {
        std::vector<image::Descriptor> listed;
        for (const auto* p : of)
            for (const auto& [type, file] : {std::pair{sbom_spdx_type, &p->spdx_file},
                                             std::pair{sbom_cyclonedx_type, &p->cyclonedx_file}}) {
                auto blob = image::write_blob(attached, type, read_file(*file));
                blob.annotations = {{"org.opencontainers.image.title", file->filename().string()}};
                auto d =
                    image::write_blob(attached, image::media_type_image_manifest,
                                      image::artifact_manifest_json(type, empty, {blob}, subject));
                d.artifact_type = type;
                d.annotations = {{std::string(sbom_arch_annotation), p->arch}};
                listed.push_back(d);
            }
        const std::string tag = image::referrers_tag(subject.digest);
        if (const auto before = reader.manifest(tag);
            before && image::is_index_media_type(before->media_type))
            for (const auto& d : image::index_entries(before->bytes)) {
                const bool ours = (d.artifact_type == sbom_spdx_type ||
                                   d.artifact_type == sbom_cyclonedx_type) &&
                                  d.annotations.count(std::string(sbom_arch_annotation));
                const bool same = std::any_of(listed.begin(), listed.end(),
                                              [&](const auto& l) { return l.digest == d.digest; });
                if (!ours && !same && copy_referrer(reader, attached, d)) listed.push_back(d);
            }
        refs[tag] =
            image::write_blob(attached, image::media_type_image_index, image::index_json(listed));
    };
    std::vector<const Part*> every;
    for (const auto& p : parts) every.push_back(&p);
    refer(index, every);
    for (const auto& p : parts) {
        const std::string bytes = image::read_document(layout, p.digest);
        refer({std::string(image::media_type_image_manifest),
               p.digest,
               bytes.size(),
               std::nullopt,
               {},
               {}},
              {&p});
    }
    image::write_layout_index(attached, refs);

    std::vector<registry::PushTarget> targets;
    for (const auto& [tag, d] : refs) targets.push_back({tag, {tag}});
    const auto pushed = registry::push_layout(push_options(s), attached, tmpl, targets);
    log::notice("signed " + repo + "@" + index.digest + " and its " + std::to_string(parts.size()) +
                " manifests; attached their SLSA provenance and SPDX and CycloneDX SBOMs (" +
                std::to_string(pushed.size()) + " tags)");
    for (const auto& ref : pushed) log::info("attached " + ref);
}

}  // namespace dmc::steps
