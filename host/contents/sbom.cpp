#include "contents/sbom.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "image/oci.hpp"
#include "util/sha256.hpp"

using nlohmann::json;

namespace dmc::contents {
namespace {

// SPDX identifiers allow letters, digits, '.' and '-'.
std::string spdx_id(const std::string& kind, const std::string& name) {
    std::string id = "SPDXRef-" + kind + "-";
    for (char c : name)
        id += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '-';
    return id;
}

}  // namespace

std::string spdx_json(const SbomInput& in) {
    const auto& m = *in.manifest;
    json packages = json::array(), files = json::array(), relationships = json::array();
    std::set<std::string> used;
    std::map<std::string, std::string> file_ids;
    std::size_t counter = 0;
    for (const auto& e : *in.entries) {
        if (e.type != image::LayerEntry::Type::file) continue;
        auto rec = m.files.find(e.path);
        std::string sha = rec != m.files.end() && !rec->second.sha256.empty() && !e.source.empty()
                              ? rec->second.sha256
                              : sha256_hex(e.content);
        const std::string id = "SPDXRef-File-" + std::to_string(++counter);
        files.push_back(
            {{"SPDXID", id},
             {"fileName", "." + e.path},
             {"checksums", json::array({{{"algorithm", "SHA256"}, {"checksumValue", sha}}})},
             {"licenseConcluded", "NOASSERTION"},
             {"copyrightText", "NOASSERTION"}});
        if (rec != m.files.end() && !rec->second.package.empty() && !e.source.empty()) {
            used.insert(rec->second.package);
            relationships.push_back({{"spdxElementId", spdx_id("Package", rec->second.package)},
                                     {"relationshipType", "CONTAINS"},
                                     {"relatedSpdxElement", id}});
        }
    }
    for (const auto& name : used) {
        const auto& p = m.packages.at(name);
        const std::string arch = p.arch.empty() ? in.arch : p.arch;
        packages.push_back(
            {{"SPDXID", spdx_id("Package", name)},
             {"name", name},
             {"versionInfo", p.version},
             {"downloadLocation", "NOASSERTION"},
             {"filesAnalyzed", false},
             {"licenseConcluded", "NOASSERTION"},
             {"licenseDeclared", "NOASSERTION"},
             {"copyrightText", "NOASSERTION"},
             {"externalRefs", json::array({{{"referenceCategory", "PACKAGE-MANAGER"},
                                            {"referenceType", "purl"},
                                            {"referenceLocator",
                                             "pkg:deb/debian/" + name + "@" + p.version + "?arch=" +
                                                 arch + "&distro=" + in.distribution}}})}});
        relationships.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"},
                                 {"relationshipType", "DESCRIBES"},
                                 {"relatedSpdxElement", spdx_id("Package", name)}});
    }
    json doc = {{"spdxVersion", "SPDX-2.3"},
                {"dataLicense", "CC0-1.0"},
                {"SPDXID", "SPDXRef-DOCUMENT"},
                {"name", in.name},
                {"creationInfo",
                 {{"created", image::rfc3339_utc(in.created)},
                  {"creators", json::array({"Tool: dmc-" DMC_VERSION})}}},
                {"packages", packages},
                {"files", files},
                {"relationships", relationships}};
    // The namespace must be unique per document: derive it from the content.
    doc["documentNamespace"] =
        "https://spdx.org/spdxdocs/dmc/" + in.name + "-" + sha256_hex(doc.dump());
    return doc.dump(1, ' ', false, json::error_handler_t::replace);
}

}  // namespace dmc::contents
