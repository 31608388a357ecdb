#include "sign/statement.hpp"

#include <algorithm>

#include "util/error.hpp"

using nlohmann::json;

namespace dmc::sign {

std::string statement(const std::vector<Subject>& subjects, std::string_view predicate_type,
                      const json& predicate) {
    json list = json::array();
    for (const auto& s : subjects) {
        const auto colon = s.digest.find(':');
        if (colon == std::string::npos) throw Error("'" + s.digest + "' is not a digest");
        list.push_back({{"name", s.name},
                        {"digest", {{s.digest.substr(0, colon), s.digest.substr(colon + 1)}}}});
    }
    return json{{"_type", statement_type},
                {"subject", list},
                {"predicateType", predicate_type},
                {"predicate", predicate}}
        .dump();
}

json slsa_predicate(const Provenance& p) {
    auto materials = p.materials;
    std::sort(materials.begin(), materials.end());
    materials.erase(std::unique(materials.begin(), materials.end(),
                                [](const Material& a, const Material& b) {
                                    return a.uri == b.uri && a.name == b.name;
                                }),
                    materials.end());
    json deps = json::array();
    for (const auto& m : materials) {
        json d = {{"digest", {{"sha256", m.sha256}}}};
        if (!m.uri.empty()) d["uri"] = m.uri;
        if (!m.name.empty()) d["name"] = m.name;
        if (!m.annotations.empty()) d["annotations"] = m.annotations;
        deps.push_back(std::move(d));
    }
    return {{"buildDefinition",
             {{"buildType", dmc_build_type},
              {"externalParameters", p.external_parameters},
              {"internalParameters", p.internal_parameters},
              {"resolvedDependencies", deps}}},
            {"runDetails",
             {{"builder", {{"id", dmc_builder_id}, {"version", {{"dmc", p.dmc_version}}}}}}}};
}

}  // namespace dmc::sign
