// in-toto attestations (in-toto/attestation, Statement v1): a predicate about
// subjects named by digest; and the predicate of a build, SLSA provenance v1
// (slsa.dev/provenance/v1). The same inputs give the same bytes: keys sorted, no
// clock.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace dmc::sign {

inline constexpr std::string_view statement_type = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view slsa_provenance_v1 = "https://slsa.dev/provenance/v1";
inline constexpr std::string_view spdx_document = "https://spdx.dev/Document";
inline constexpr std::string_view cyclonedx_bom = "https://cyclonedx.org/bom";
// What a dmc build is, and who built it, as the provenance's TypeURIs.
inline constexpr std::string_view dmc_build_type = "urn:dmc:build-type:debian-image:v1";
inline constexpr std::string_view dmc_builder_id = "urn:dmc:builder:local";

struct Subject {
    std::string name;
    std::string digest;  // "sha256:<hex>"
};

std::string statement(const std::vector<Subject>& subjects, std::string_view predicate_type,
                      const nlohmann::json& predicate);

// A resolved dependency (SLSA's ResourceDescriptor): a .deb, a signed InRelease
// file, a template plugin.
struct Material {
    std::string uri, name;
    std::string sha256;  // hex
    std::map<std::string, std::string> annotations;
    bool operator<(const Material& o) const {
        return std::tie(uri, name) < std::tie(o.uri, o.name);
    }
};

struct Provenance {
    nlohmann::json external_parameters;  // what the user asked for
    nlohmann::json internal_parameters;  // what dmc chose itself
    std::vector<Material> materials;
    std::string dmc_version;
};
nlohmann::json slsa_predicate(const Provenance& provenance);

}  // namespace dmc::sign
