// What dmc does to a cluster, one file each: apply.cpp (server-side apply, and the
// Secret made only once), rollout.cpp (waiting until the workloads run) and
// delete.cpp (deleting, and waiting until the objects are gone).
#pragma once

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube/client.hpp"

namespace dmc::kube {

// Server-side apply as the field manager "dmc"; force takes over fields another
// manager owns. Returns the object as the server has it; throws Error with the
// server's words (a conflict names the fields and their manager).
nlohmann::ordered_json apply_object(ApiClient& client, nlohmann::ordered_json object,
                                    const std::string& ns, bool force);

// Creates the Secret `name` with a random value under each key unless it exists;
// an existing one is never changed. Returns whether it was created.
bool create_secret_once(ApiClient& client, const std::string& name,
                        const std::vector<std::string>& keys, const nlohmann::ordered_json& labels,
                        const std::string& ns);
// 32 random letters and digits, from OpenSSL's generator.
std::string random_secret_value();

// Waits until every Deployment and StatefulSet among `objects` has rolled out:
// observed, updated and ready. On a timeout (or a deadline the Deployment itself
// reports), throws Error with the failing condition and the last event of a pod
// that is not ready.
void wait_for_rollout(ApiClient& client, const std::vector<nlohmann::ordered_json>& objects,
                      const std::string& ns, std::chrono::seconds timeout,
                      std::chrono::milliseconds poll = std::chrono::milliseconds(1000));

// Deletes with propagationPolicy Foreground and waits until it is gone; an object
// that is not there is fine. Returns whether there was one to delete.
bool delete_object(ApiClient& client, const nlohmann::ordered_json& object, const std::string& ns,
                   std::chrono::seconds timeout,
                   std::chrono::milliseconds poll = std::chrono::milliseconds(500));

// The pause before look number `look` (1, 2, ...) at something the cluster is doing:
// quick looks first, as a rollout or a deletion is often done at once, then `poll`.
inline std::chrono::milliseconds pause_before_look(int look, std::chrono::milliseconds poll) {
    return std::min(poll, std::chrono::milliseconds(125L << std::min(std::max(look, 1) - 1, 4)));
}

}  // namespace dmc::kube
