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

const std::string kTool = "dmc-" DMC_VERSION;

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
// The first word of a control field's value, or "".
std::string field_of(const std::string& control, const std::string& field) {
    std::istringstream lines(control);
    std::string line;
    while (std::getline(lines, line))
        if (line.starts_with(field + ":")) {
            std::string v = line.substr(field.size() + 1);
            v.erase(0, v.find_first_not_of(" \t"));
            return v.substr(0, v.find_first_of(" \t("));
        }
    return "";
}

// What both formats say: the image's files, and the packages that ship some of them.
struct Model {
    struct File {
        std::string path, sha256, package;  // package: "" when dmc or a template wrote it
        std::string written_by;             // then: "template nginx" or "dmc"
    };
    struct Package {
        std::string name, version, source, purl;
        // Built from source by a template (X-Dmc-Source): the .dsc's or tarball's URL.
        std::string built_from, built_from_sha256;
        std::size_t shipped = 0;
        std::map<std::string, std::vector<std::string>> left_out;  // by rule
        std::size_t left_out_count() const {
            std::size_t n = 0;
            for (const auto& [rule, paths] : left_out) n += paths.size();
            return n;
        }
        // "partial: 3 of 57 files in the image; left out: docs (12), ..."; "" when whole.
        std::string partial() const {
            if (left_out.empty()) return "";
            std::string summary;
            for (const auto& [rule, paths] : left_out)
                summary += (summary.empty() ? "" : ", ") + rule + " (" +
                           std::to_string(paths.size()) + ")";
            return "partial: " + std::to_string(shipped) + " of " +
                   std::to_string(shipped + left_out_count()) +
                   " files in the image; left out: " + summary;
        }
        // One line per file left out: "/usr/share/doc/x/copyright (docs)".
        std::string left_out_lines() const {
            std::string out;
            for (const auto& [rule, paths] : left_out)
                for (const auto& p : paths) out += p + " (" + rule + ")\n";
            return out;
        }
    };
    std::vector<File> files;
    std::map<std::string, Package> packages;
};

Model model_of(const SbomInput& in) {
    const auto& m = *in.manifest;
    Model model;
    std::set<std::string> shipped_paths;
    const Assembly& a = *in.assembly;
    for (const auto& [path, content] : a.contents) {
        const Origin& origin = a.origins.at(path);
        if (origin.kind != Origin::Kind::package) {
            model.files.push_back({path, content.sha256, "", writer(origin)});
            continue;
        }
        model.files.push_back({path, content.sha256, origin.name, ""});
        shipped_paths.insert(path);
        const std::string& name = origin.name;
        if (model.packages.count(name)) continue;
        const auto& p = m.packages.at(name);
        Model::Package pkg;
        pkg.name = name;
        pkg.version = p.version;
        pkg.source = field_of(p.control, "Source");
        pkg.built_from = field_of(p.control, "X-Dmc-Source");
        pkg.built_from_sha256 = field_of(p.control, "X-Dmc-Source-Sha256");
        if (pkg.built_from.ends_with(".dsc")) {
            // Debian's source package, built here: its purl is the source's.
            pkg.purl = "pkg:deb/debian/" + name + "@" + p.version +
                       "?arch=source&distro=" + in.distribution;
        } else if (!pkg.built_from.empty()) {
            pkg.purl = "pkg:generic/" + name + "@" + p.version +
                       "?checksum=sha256:" + pkg.built_from_sha256;
        } else {
            pkg.purl = "pkg:deb/debian/" + name + "@" + p.version +
                       "?arch=" + (p.arch.empty() ? in.arch : p.arch);
            if (!pkg.source.empty() && pkg.source != name) pkg.purl += "&upstream=" + pkg.source;
            pkg.purl += "&distro=" + in.distribution;
        }
        model.packages.emplace(name, std::move(pkg));
    }
    for (const auto& [path, rec] : m.files) {
        auto it = model.packages.find(rec.package);
        if (rec.type != 'f' || it == model.packages.end()) continue;
        if (shipped_paths.count(path))
            ++it->second.shipped;
        else
            it->second.left_out[left_out_because(path)].push_back(path);
    }
    return model;
}

}  // namespace

std::string spdx_json(const SbomInput& in) {
    const Model model = model_of(in);
    const std::string created = image::rfc3339_utc(in.created);
    json packages = json::array(), files = json::array(), relationships = json::array();
    std::size_t counter = 0;
    for (const auto& f : model.files) {
        const std::string id = "SPDXRef-File-" + std::to_string(++counter);
        files.push_back(
            {{"SPDXID", id},
             {"fileName", "." + f.path},
             {"checksums", json::array({{{"algorithm", "SHA256"}, {"checksumValue", f.sha256}}})},
             {"licenseConcluded", "NOASSERTION"},
             {"copyrightText", "NOASSERTION"}});
        if (f.package.empty()) {
            files.back()["comment"] = "written by " + f.written_by;
            continue;
        }
        relationships.push_back({{"spdxElementId", spdx_id("Package", f.package)},
                                 {"relationshipType", "CONTAINS"},
                                 {"relatedSpdxElement", id}});
    }
    for (const auto& [name, p] : model.packages) {
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
                                                       {"referenceLocator", p.purl}}})}};
        if (!p.source.empty())
            package["sourceInfo"] = "built from the Debian source package " + p.source;
        if (!p.built_from.empty()) {
            package["downloadLocation"] = p.built_from;
            package["sourceInfo"] = "built from source in the image build, from " + p.built_from +
                                    " (SHA256 " + p.built_from_sha256 + ")";
        }
        // A package of which only some files ship says so, and what was left out why.
        if (const std::string partial = p.partial(); !partial.empty()) {
            package["comment"] = partial;
            package["annotations"] =
                json::array({{{"annotationType", "OTHER"},
                              {"annotator", "Tool: " + kTool},
                              {"annotationDate", created},
                              {"comment", "dmc:partial; left out:\n" + p.left_out_lines()}}});
        }
        packages.push_back(std::move(package));
        relationships.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"},
                                 {"relationshipType", "DESCRIBES"},
                                 {"relatedSpdxElement", spdx_id("Package", name)}});
    }
    json doc = {
        {"spdxVersion", "SPDX-2.3"},
        {"dataLicense", "CC0-1.0"},
        {"SPDXID", "SPDXRef-DOCUMENT"},
        {"name", in.name},
        {"creationInfo", {{"created", created}, {"creators", json::array({"Tool: " + kTool})}}},
        {"packages", packages},
        {"files", files},
        {"relationships", relationships}};
    if (!in.script_effects.empty() || !in.unfollowed_scripts.empty()) {
        std::string notes = "dmc ran no maintainer script; it reproduced their effects:\n";
        for (const auto& e : in.script_effects) notes += "- " + e + "\n";
        for (const auto& u : in.unfollowed_scripts) notes += "- not reproduced: " + u + "\n";
        doc["comment"] = notes;
    }
    // The namespace must be unique per document: derive it from the content.
    doc["documentNamespace"] =
        "https://spdx.org/spdxdocs/dmc/" + in.name + "-" + sha256_hex(doc.dump());
    return doc.dump(1, ' ', false, json::error_handler_t::replace);
}

std::string cyclonedx_json(const SbomInput& in) {
    const Model model = model_of(in);
    auto file_component = [](const Model::File& f) {
        json c = {{"type", "file"},
                  {"bom-ref", "file:" + f.path},
                  {"name", f.path},
                  {"hashes", json::array({{{"alg", "SHA-256"}, {"content", f.sha256}}})}};
        if (!f.written_by.empty())
            c["properties"] = json::array({{{"name", "dmc:written-by"}, {"value", f.written_by}}});
        return c;
    };
    // A package holds the components of its shipped files; the others stand alone.
    std::map<std::string, json> nested;
    json components = json::array();
    for (const auto& f : model.files) {
        if (f.package.empty())
            components.push_back(file_component(f));
        else
            nested[f.package].push_back(file_component(f));
    }
    for (const auto& [name, p] : model.packages) {
        json c = {{"type", "library"},    {"bom-ref", p.purl}, {"name", name},
                  {"version", p.version}, {"purl", p.purl},    {"components", nested[name]}};
        json properties = json::array();
        if (!p.source.empty())
            properties.push_back({{"name", "dmc:source-package"}, {"value", p.source}});
        if (!p.built_from.empty()) {
            properties.push_back({{"name", "dmc:built-from-source"}, {"value", p.built_from}});
            c["externalReferences"] = json::array(
                {{{"type", "source-distribution"},
                  {"url", p.built_from},
                  {"hashes",
                   json::array({{{"alg", "SHA-256"}, {"content", p.built_from_sha256}}})}}});
        }
        if (const std::string partial = p.partial(); !partial.empty()) {
            properties.push_back({{"name", "dmc:partial"}, {"value", partial}});
            for (const auto& [rule, paths] : p.left_out)
                for (const auto& path : paths)
                    properties.push_back(
                        {{"name", "dmc:left-out"}, {"value", path + " (" + rule + ")"}});
        }
        if (!properties.empty()) c["properties"] = properties;
        components.push_back(std::move(c));
    }
    json bom = {
        {"bomFormat", "CycloneDX"},
        {"specVersion", "1.6"},
        {"version", 1},
        {"metadata",
         {{"timestamp", image::rfc3339_utc(in.created)},
          {"tools",
           {{"components",
             json::array({{{"type", "application"}, {"name", "dmc"}, {"version", DMC_VERSION}}})}}},
          {"component",
           {{"type", "container"}, {"bom-ref", "image:" + in.name}, {"name", in.name}}}}},
        {"components", components}};
    json notes = json::array();
    for (const auto& e : in.script_effects)
        notes.push_back({{"name", "dmc:script-effect"}, {"value", e}});
    for (const auto& u : in.unfollowed_scripts)
        notes.push_back({{"name", "dmc:script-effect-not-reproduced"}, {"value", u}});
    if (!notes.empty()) bom["metadata"]["properties"] = notes;
    // The serial number is a UUID derived from the content (RFC 9562 version 5 layout),
    // so the same image gives the same document.
    std::string h = sha256_hex(bom.dump()).substr(0, 32);
    h[12] = '5';
    h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
    bom["serialNumber"] = "urn:uuid:" + h.substr(0, 8) + "-" + h.substr(8, 4) + "-" +
                          h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
    return bom.dump(1, ' ', false, json::error_handler_t::replace);
}

}  // namespace dmc::contents
