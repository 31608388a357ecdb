// The delete step (-X): the objects the deploy hook describes are deleted in the
// reverse order, each with propagationPolicy Foreground, waiting until it is gone.
// Deleting what is not there is no error. A generated Secret stays: the volumes
// that Kubernetes keeps after a StatefulSet still need its passwords.
#include "kube/manifest.hpp"
#include "kube/operations.hpp"
#include "log/log.hpp"
#include "steps/steps.hpp"

using json = nlohmann::ordered_json;

namespace dmc::steps {

void remove(Context& context, const tasks::Task& task) {
    const auto& settings = context.settings;
    const std::string& tmpl = task.template_name;
    const auto objects = deploy_objects(context, tmpl, true);
    if (objects.objects.empty() && objects.secrets.empty()) {
        log::notice("the template " + tmpl + " makes no Kubernetes objects; nothing to delete");
        return;
    }
    auto [client, ns] = connect_cluster(context);
    int deleted = 0;
    for (auto it = objects.objects.rbegin(); it != objects.objects.rend(); ++it) {
        if (kube::delete_object(*client, *it, ns, std::chrono::seconds(settings.rollout_timeout))) {
            log::info("deleted " + kube::object_name(*it));
            ++deleted;
        } else {
            log::info(kube::object_name(*it) + " was not there");
        }
    }
    for (const auto& s : objects.secrets)
        log::notice("the Secret " + s.name + " in namespace " + ns +
                    " is kept, with the passwords of the data that stays; delete it with "
                    "kubectl delete secret " +
                    s.name + " -n " + ns);
    log::result(tmpl + " deleted from " + ns + " (" + std::to_string(deleted) + " objects)");
}

}  // namespace dmc::steps
