// The kinds dmc applies and where the API serves them. A fixed table, as the
// objects come from templates that dmc runs: discovery would only add a round trip.
#pragma once

#include <string>

namespace dmc::kube {

struct Resource {
    std::string api_version;  // "apps/v1", "v1"
    std::string kind;         // "Deployment"
    std::string plural;       // "deployments"
    bool namespaced = true;

    // "deployments.apps", "services": how the API names the resource in messages.
    std::string qualified() const;
    // /apis/apps/v1/namespaces/NS/deployments[/NAME]
    std::string path(const std::string& ns, const std::string& name = "") const;
};

// Throws Error naming the kinds dmc knows when it is not one of them.
const Resource& resource_for(const std::string& api_version, const std::string& kind);

}  // namespace dmc::kube
