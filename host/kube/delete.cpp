#include <thread>

#include "kube/manifest.hpp"
#include "kube/operations.hpp"
#include "kube/resources.hpp"
#include "util/error.hpp"

using json = nlohmann::ordered_json;

namespace dmc::kube {

bool delete_object(ApiClient& client, const json& object, const std::string& ns,
                   std::chrono::seconds timeout, std::chrono::milliseconds poll) {
    const Resource& r = resource_for(object.at("apiVersion").get<std::string>(),
                                     object.at("kind").get<std::string>());
    const std::string name = object.at("metadata").at("name").get<std::string>();
    const std::string path = r.path(ns, name);
    const std::string what =
        "deleting " + object_name(object) + (r.namespaced ? " in namespace " + ns : std::string());
    const json options = {
        {"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Foreground"}};
    const auto response = client.request("DELETE", path, options.dump(), "application/json");
    if (response.status == 404 && status_message(response).rfind("namespaces \"", 0) != 0)
        return false;  // gone already: deleting twice is no error
    if (response.status != 200 && response.status != 202)
        throw Error(describe_failure(response, what, client.access(), ns));
    // Foreground: the object stays, marked, until what it owns is gone.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int looks = 0;
    while (true) {
        const auto now = client.request("GET", path);
        if (now.status == 404) return true;
        if (now.status != 200) throw Error(describe_failure(now, what, client.access(), ns));
        if (std::chrono::steady_clock::now() >= deadline)
            throw Error(what + ": still there after " + std::to_string(timeout.count()) +
                        " s (a finalizer may hold it); see kubectl describe " + r.qualified() +
                        " " + name + " -n " + ns);
        std::this_thread::sleep_for(pause_before_look(++looks, poll));
    }
}

}  // namespace dmc::kube
