#include "contents/sbom.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

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

// Why a file of a package is not in the image, by the rule that leaves such files out.
std::string left_out_because(const std::string& path) {
    if (path.starts_with("/usr/share/doc/")) return "docs";
    if (path.starts_with("/usr/share/man/") || path.starts_with("/usr/share/info/"))
        return "man pages";
    if (path.starts_with("/usr/share/locale/") || path.starts_with("/usr/share/i18n/"))
        return "locales";
    const auto name = path.substr(path.rfind('/') + 1);
    if (path.find("/lib/") != std::string::npos && name.find(".so") != std::string::npos)
        return "unused libraries";
    return "not collected";
}

// The source package a binary package's control stanza names ("Source: src (1.2)").
std::string source_of(const std::string& control) {
    std::istringstream lines(control);
    std::string line;
    while (std::getline(lines, line))
        if (line.starts_with("Source:")) {
            std::string v = line.substr(7);
            v.erase(0, v.find_first_not_of(" \t"));
            return v.substr(0, v.find_first_of(" \t("));
        }
    return "";
}

}  // namespace

std::string spdx_json(const SbomInput& in) {
    const auto& m = *in.manifest;
    json packages = json::array(), files = json::array(), relationships = json::array();
    std::set<std::string> used, shipped_paths;
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
            shipped_paths.insert(e.path);
            relationships.push_back({{"spdxElementId", spdx_id("Package", rec->second.package)},
                                     {"relationshipType", "CONTAINS"},
                                     {"relatedSpdxElement", id}});
        }
    }
    // The files of each package, and which of them the image has.
    std::map<std::string, std::vector<std::string>> left_out;
    std::map<std::string, std::size_t> shipped;
    for (const auto& [path, rec] : m.files) {
        if (rec.type != 'f' || !used.count(rec.package)) continue;
        if (shipped_paths.count(path))
            ++shipped[rec.package];
        else
            left_out[rec.package].push_back(path);
    }
    const std::string tool = "Tool: dmc-" DMC_VERSION;
    for (const auto& name : used) {
        const auto& p = m.packages.at(name);
        const std::string arch = p.arch.empty() ? in.arch : p.arch;
        std::string purl = "pkg:deb/debian/" + name + "@" + p.version + "?arch=" + arch;
        const std::string source = source_of(p.control);
        if (!source.empty() && source != name) purl += "&upstream=" + source;
        purl += "&distro=" + in.distribution;
        json package = {{"SPDXID", spdx_id("Package", name)},
                        {"name", name},
                        {"versionInfo", p.version},
                        {"downloadLocation", "NOASSERTION"},
                        {"filesAnalyzed", false},
                        {"licenseConcluded", "NOASSERTION"},
                        {"licenseDeclared", "NOASSERTION"},
                        {"copyrightText", "NOASSERTION"},
                        {"externalRefs", json::array({{{"referenceCategory", "PACKAGE-MANAGER"},
                                                       {"referenceType", "purl"},
                                                       {"referenceLocator", purl}}})}};
        if (!source.empty())
            package["sourceInfo"] = "built from the Debian source package " + source;
        // A package of which only some files ship says so, and what was left out why.
        if (auto it = left_out.find(name); it != left_out.end()) {
            std::map<std::string, std::vector<std::string>> by_rule;
            for (const auto& path : it->second) by_rule[left_out_because(path)].push_back(path);
            std::string summary, detail;
            for (const auto& [rule, paths] : by_rule) {
                summary += (summary.empty() ? "" : ", ") + rule + " (" +
                           std::to_string(paths.size()) + ")";
                for (const auto& path : paths) detail += path + " (" + rule + ")\n";
            }
            const std::size_t total = shipped[name] + it->second.size();
            package["comment"] = "partial: " + std::to_string(shipped[name]) + " of " +
                                 std::to_string(total) +
                                 " files in the image; left out: " + summary;
            package["annotations"] =
                json::array({{{"annotationType", "OTHER"},
                              {"annotator", tool},
                              {"annotationDate", image::rfc3339_utc(in.created)},
                              {"comment", "dmc:partial; left out:\n" + detail}}});
        }
        packages.push_back(std::move(package));
        relationships.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"},
                                 {"relationshipType", "DESCRIBES"},
                                 {"relatedSpdxElement", spdx_id("Package", name)}});
    }
    json doc = {{"spdxVersion", "SPDX-2.3"},
                {"dataLicense", "CC0-1.0"},
                {"SPDXID", "SPDXRef-DOCUMENT"},
                {"name", in.name},
                {"creationInfo",
                 {{"created", image::rfc3339_utc(in.created)}, {"creators", json::array({tool})}}},
                {"packages", packages},
                {"files", files},
                {"relationships", relationships}};
    // The namespace must be unique per document: derive it from the content.
    doc["documentNamespace"] =
        "https://spdx.org/spdxdocs/dmc/" + in.name + "-" + sha256_hex(doc.dump());
    return doc.dump(1, ' ', false, json::error_handler_t::replace);
}

}  // namespace dmc::contents
