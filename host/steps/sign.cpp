// The sign step: after the push, every pushed index and manifest of the template
// gets a cosign signature and two attestations in the registry: the SLSA
// provenance of its build and its SBOMs (SPDX and CycloneDX), each an in-toto statement in a DSSE
// envelope signed with the same key. They are written as an OCI layout next to
// the push record (attachments/, one image per "sha256-<hex>.sig"/".att" tag) and
// pushed from there. Signatures and attestations of other keys there are kept.
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
json provenance(const Context& context, const std::string& tmpl,
                const std::vector<std::string>& archs) {
    const auto& s = context.settings;
    sign::Provenance p;
    p.dmc_version = DMC_VERSION;
    json builds = json::object();
    json programs = json::object();
    for (const auto& arch : archs) {
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
    p.external_parameters = {
        {"template", tmpl}, {"dist", s.dist}, {"tag", s.tag}, {"archs", archs}, {"builds", builds}};
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

}  // namespace

void sign(Context& context, const tasks::Task& task) {
    const auto& s = context.settings;
    const std::string& tmpl = task.template_name;
    const auto key = sign::PrivateKey::load(s.sign_key);
    const PushedImage pushed = pushed_image(context, tmpl);
    const auto& index = pushed.index;
    const std::string& repo = pushed.repository;

    // Each arch's manifest, with its SBOMs: every manifest of the index must be one
    // dmc built here, or the signed index would vouch for what has no provenance.
    struct Part {
        std::string arch, digest;
        json spdx, cyclonedx;
    };
    std::vector<Part> parts;
    std::vector<std::string> archs;
    for (const auto& part : pushed_parts(context, tmpl, pushed)) {
        parts.push_back({part.arch, part.manifest.digest, read_json(part.outputs.sbom, "SBOM"),
                         read_json(part.outputs.cyclonedx, "SBOM")});
        archs.push_back(part.arch);
    }
    std::string archs_text;
    for (const auto& a : s.archs) archs_text += (archs_text.empty() ? "" : ",") + a;
    const auto entries =
        image::index_entries(image::read_document(child_path(s.image_dir, tmpl), index.digest));
    if (parts.empty() || parts.size() != entries.size())
        throw Error(repo + "@" + index.digest + " lists " + std::to_string(entries.size()) +
                    " manifests, of which dmc built " + std::to_string(parts.size()) +
                    " here for -A " + archs_text +
                    "; sign what dmc built, with the archs it was built for");

    std::vector<sign::Subject> subjects{{repo, index.digest}};
    for (const auto& p : parts) subjects.push_back({repo, p.digest});
    const auto provenance_att = attestation(
        sign::statement(subjects, sign::slsa_provenance_v1, provenance(context, tmpl, archs)),
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
    // What other signers put there stays, first, as cosign appends to it; what this
    // key signed before is replaced.
    const fs::path attached = pushed.record_dir / "attachments";
    fs::remove_all(attached);
    registry::Reader reader(push_options(s), tmpl);
    const auto public_key = sign::PublicKey::parse(key.public_pem(), "the signing key");
    std::size_t kept = 0;
    auto others = [&](const std::string& tag) {
        std::vector<sign::Attachment> out;
        const auto before = reader.manifest(tag);
        if (!before) return out;
        for (const auto& l : sign::attachment_layers(before->bytes)) {
            std::string content = reader.blob(l.digest);
            if (!sign::signed_with(l, content, public_key))
                out.push_back({l.media_type, std::move(content), l.annotations});
        }
        kept += out.size();
        return out;
    };
    std::map<std::string, image::Descriptor> refs;
    auto sign_digest = [&](const std::string& digest, const std::vector<sign::Attachment>& atts) {
        const std::string payload = sign::simple_signing_payload(repo, digest);
        const std::string sig_tag = sign::attachment_tag(digest, sign::signature_suffix);
        auto signatures = others(sig_tag);
        signatures.push_back(
            {std::string(sign::simple_signing_media_type),
             payload,
             {{std::string(sign::signature_annotation), base64_encode(key.sign(payload))}}});
        refs[sig_tag] = sign::write_attachments(attached, signatures);
        const std::string att_tag = sign::attachment_tag(digest, sign::attestation_suffix);
        auto attestations = others(att_tag);
        attestations.insert(attestations.end(), atts.begin(), atts.end());
        refs[att_tag] = sign::write_attachments(attached, attestations);
    };
    std::vector<sign::Attachment> all{provenance_att};
    for (const auto& p : parts) all.insert(all.end(), sboms[p.arch].begin(), sboms[p.arch].end());
    sign_digest(index.digest, all);
    for (const auto& p : parts) {
        std::vector<sign::Attachment> own{provenance_att};
        own.insert(own.end(), sboms[p.arch].begin(), sboms[p.arch].end());
        sign_digest(p.digest, own);
    }
    image::write_layout_index(attached, refs);

    std::vector<registry::PushTarget> targets;
    for (const auto& [tag, d] : refs) targets.push_back({tag, {tag}});
    const auto tags = registry::push_layout(push_options(s), attached, tmpl, targets);
    log::notice("signed " + repo + "@" + index.digest + " and its " + std::to_string(parts.size()) +
                " manifests; attached their SLSA provenance and SPDX and CycloneDX SBOMs (" +
                std::to_string(tags.size()) + " tags" +
                (kept ? ", keeping " + std::to_string(kept) +
                            " signatures and attestations of "
                            "other keys"
                      : "") +
                ")");
    for (const auto& ref : tags) log::info("attached " + ref);
}

}  // namespace dmc::steps
