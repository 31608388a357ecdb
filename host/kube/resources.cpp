#include "kube/resources.hpp"

#include <vector>

#include "util/error.hpp"

namespace dmc::kube {
namespace {

const std::vector<Resource>& table() {
    static const std::vector<Resource> resources = {
        {"v1", "Namespace", "namespaces", false},
        {"v1", "ConfigMap", "configmaps", true},
        {"v1", "Secret", "secrets", true},
        {"v1", "Service", "services", true},
        {"v1", "ServiceAccount", "serviceaccounts", true},
        {"v1", "PersistentVolumeClaim", "persistentvolumeclaims", true},
        {"v1", "Pod", "pods", true},
        {"v1", "Event", "events", true},
        {"apps/v1", "Deployment", "deployments", true},
        {"apps/v1", "StatefulSet", "statefulsets", true},
        {"batch/v1", "CronJob", "cronjobs", true},
        {"batch/v1", "Job", "jobs", true},
        {"rbac.authorization.k8s.io/v1", "Role", "roles", true},
        {"rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true},
        {"policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true},
        {"networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true},
    };
    return resources;
}

}  // namespace

std::string Resource::qualified() const {
    const auto slash = api_version.find('/');
    return slash == std::string::npos ? plural : plural + "." + api_version.substr(0, slash);
}

std::string Resource::path(const std::string& ns, const std::string& name) const {
    std::string out =
        api_version.find('/') == std::string::npos ? "/api/" + api_version : "/apis/" + api_version;
    if (namespaced) out += "/namespaces/" + ns;
    out += "/" + plural;
    if (!name.empty()) out += "/" + name;
    return out;
}

const Resource& resource_for(const std::string& api_version, const std::string& kind) {
    for (const auto& r : table())
        if (r.api_version == api_version && r.kind == kind) return r;
    std::string known;
    for (const auto& r : table())
        known += (known.empty() ? "" : ", ") + r.api_version + " " + r.kind;
    throw Error("dmc cannot apply " + api_version + " " + kind + " (it applies " + known + ")");
}

}  // namespace dmc::kube
