#include <openssl/rand.h>

#include "kube/manifest.hpp"
#include "kube/operations.hpp"
#include "kube/resources.hpp"
#include "util/base64.hpp"
#include "util/error.hpp"

using json = nlohmann::ordered_json;

namespace dmc::kube {
namespace {

std::string in_namespace(const Resource& r, const std::string& ns) {
    return r.namespaced ? " in namespace " + ns : std::string();
}

}  // namespace

json apply_object(ApiClient& client, json object, const std::string& ns, bool force) {
    const Resource& r = resource_for(object.at("apiVersion").get<std::string>(),
                                     object.at("kind").get<std::string>());
    const std::string name = object["metadata"]["name"].get<std::string>();
    if (r.namespaced) object["metadata"]["namespace"] = ns;
    const std::string path = r.path(ns, name) + "?fieldManager=dmc" + (force ? "&force=true" : "");
    const auto response =
        client.request("PATCH", path, object.dump(), "application/apply-patch+yaml");
    if (response.status != 200 && response.status != 201)
        throw Error(describe_failure(response,
                                     "applying " + object_name(object) + in_namespace(r, ns),
                                     client.access(), ns));
    try {
        return json::parse(response.body);
    } catch (const json::exception&) {
        throw Error("applying " + object_name(object) + ": the API server answered " +
                    std::to_string(response.status) + " without the object");
    }
}

std::string random_secret_value() {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string out;
    unsigned char bytes[64];
    while (out.size() < 32) {
        if (RAND_bytes(bytes, sizeof bytes) != 1)
            throw Error("OpenSSL's random generator failed; no Secret was made");
        // 62 letters: bytes of 248 and more would favour the first letters.
        for (unsigned char b : bytes)
            if (b < 248 && out.size() < 32) out += alphabet[b % 62];
    }
    return out;
}

bool create_secret_once(ApiClient& client, const std::string& name,
                        const std::vector<std::string>& keys, const json& labels,
                        const std::string& ns) {
    const Resource& r = resource_for("v1", "Secret");
    // Looked at first, so that no random value is made or sent when it exists.
    const auto existing = client.request("GET", r.path(ns, name));
    if (existing.status == 200) return false;
    if (existing.status != 404 || status_reason(existing) != "NotFound" ||
        status_message(existing).rfind("namespaces \"", 0) == 0)
        throw Error(describe_failure(existing, "reading Secret " + name + " in namespace " + ns,
                                     client.access(), ns));
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
                   {"type", "Opaque"},
                   {"data", json::object()}};
    for (const auto& key : keys) secret["data"][key] = base64_encode(random_secret_value());
    const auto created =
        client.request("POST", r.path(ns) + "?fieldManager=dmc", secret.dump(), "application/json");
    if (created.status == 201 || created.status == 200) return true;
    // Made by someone else in the meantime: theirs stays.
    if (created.status == 409 && status_reason(created) == "AlreadyExists") return false;
    throw Error(describe_failure(created, "creating Secret " + name + " in namespace " + ns,
                                 client.access(), ns));
}

}  // namespace dmc::kube
