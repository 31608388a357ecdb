// The verify activity: what the registry holds under the template's tag is checked
// the way cosign checks it, with the public key of --key: the index and each of its
// manifests must have a signature that names its digest, and attestations whose
// DSSE envelopes the key signed and whose statements name it: the SLSA provenance
// and the SPDX and CycloneDX SBOMs. Every image is checked through; the error lists each
// missing or wrong piece.
#include <nlohmann/json.hpp>

#include "image/oci.hpp"
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

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::steps {
namespace {

bool names_digest(const json& statement, const std::string& digest) {
    if (!statement.contains("subject") || !statement["subject"].is_array()) return false;
    const std::string hex = digest.substr(digest.find(':') + 1);
    for (const auto& s : statement["subject"])
        if (s.is_object() && s.contains("digest") && s["digest"].is_object() &&
            s["digest"].value("sha256", "") == hex)
            return true;
    return false;
}

// What is wrong with the signature and attestations of `digest` ("" when nothing).
std::vector<std::string> check(registry::Reader& reader, const sign::PublicKey& key,
                               const std::string& digest, const std::string& what) {
    std::vector<std::string> problems;
    const auto sig = reader.manifest(sign::attachment_tag(digest, sign::signature_suffix));
    bool signed_ok = false;
    bool other_key = false;
    if (sig)
        for (const auto& l : sign::attachment_layers(sig->bytes)) {
            if (l.media_type != sign::simple_signing_media_type) continue;
            const std::string payload = reader.blob(l.digest);
            if (!sign::signed_with(l, payload, key)) {
                other_key = true;
                continue;
            }
            if (sign::signed_digest(payload) == digest) signed_ok = true;
        }
    if (!sig)
        problems.push_back(what + " has no signature");
    else if (!signed_ok)
        problems.push_back(what + (other_key ? " is signed, but not with this key"
                                             : " has a signature that names another digest"));

    std::set<std::string> found;
    bool foreign = false;
    if (const auto att = reader.manifest(sign::attachment_tag(digest, sign::attestation_suffix)))
        for (const auto& l : sign::attachment_layers(att->bytes)) {
            if (l.media_type != sign::dsse_media_type) continue;
            const auto body =
                sign::open_envelope(reader.blob(l.digest), sign::in_toto_payload_type, key);
            const json statement = body ? json::parse(*body, nullptr, false) : json();
            if (!statement.is_object() || !names_digest(statement, digest)) {
                foreign = true;
                continue;
            }
            found.insert(statement.value("predicateType", ""));
        }
    for (const auto& [type, name] : {std::pair{sign::slsa_provenance_v1, "provenance"},
                                     std::pair{sign::spdx_document, "SPDX SBOM"},
                                     std::pair{sign::cyclonedx_bom, "CycloneDX SBOM"}})
        if (!found.count(std::string(type)))
            problems.push_back(what + " has no " + name + " attestation" +
                               (foreign ? " that this key signed for it" : ""));
    return problems;
}

}  // namespace

void verify(Context& context, const tasks::Task& task) {
    const auto& s = context.settings;
    const fs::path key_file = s.key;
    const auto key = sign::PublicKey::load(key_file);

    registry::Reader reader(push_options(s), task.template_name);
    const auto top = reader.manifest(s.tag);
    if (!top)
        throw Error("there is no " + reader.where() + ":" + s.tag + "; push it first: dmc -t " +
                    task.template_name + " -H " + s.registry);
    std::vector<std::pair<std::string, std::string>> images{{top->digest, s.tag}};
    std::vector<std::string> problems;
    if (image::is_index_media_type(top->media_type)) {
        std::size_t unreadable = 0;
        for (const auto& m : image::index_entries(top->bytes, &unreadable))
            images.push_back({m.digest, image::architecture_of(m)});
        if (unreadable)
            problems.push_back(std::to_string(unreadable) +
                               " entries of the index are no valid descriptors, so cannot be "
                               "checked");
    }
    for (const auto& [digest, name] : images) {
        auto found = check(reader, key, digest, name + " (" + digest.substr(0, 19) + ")");
        if (found.empty())
            log::info(reader.where() + "@" + digest + " (" + name +
                      "): signature, provenance and SBOMs verified");
        problems.insert(problems.end(), found.begin(), found.end());
    }
    if (!problems.empty()) {
        std::string text;
        for (const auto& p : problems) text += (text.empty() ? "" : "; ") + p;
        throw Error(reader.where() + ":" + s.tag + " does not verify with " + key_file.string() +
                    ": " + text + "; sign it with dmc -t " + task.template_name +
                    " -a load --sign KEY");
    }
    log::result(reader.where() + ":" + s.tag + "@" + top->digest + " verified: " +
                std::to_string(images.size()) + " signed, with provenance and SBOMs");
}

}  // namespace dmc::steps
