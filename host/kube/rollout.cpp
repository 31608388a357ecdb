#include <thread>

#include "kube/manifest.hpp"
#include "kube/operations.hpp"
#include "kube/resources.hpp"
#include "log/log.hpp"
#include "util/error.hpp"

using json = nlohmann::ordered_json;

namespace dmc::kube {
namespace {

long long number(const json& o, const char* pointer, long long fallback = 0) {
    const json v = o.value(json::json_pointer(pointer), json());
    return v.is_number_integer() ? v.get<long long>() : fallback;
}

std::string text(const json& o, const char* pointer) {
    const json v = o.value(json::json_pointer(pointer), json());
    return v.is_string() ? v.get<std::string>() : std::string();
}

struct State {
    bool done = false;
    bool failed = false;   // the workload itself says it will not get there
    std::string progress;  // "1 of 2 updated, 0 ready"
};

// kubectl rollout status's rules for a Deployment and a StatefulSet.
State state_of(const json& o) {
    State s;
    const std::string kind = o.value("kind", "");
    const long long want = number(o, "/spec/replicas", 1);
    const long long generation = number(o, "/metadata/generation", 0);
    const long long observed = number(o, "/status/observedGeneration", -1);
    const long long updated = number(o, "/status/updatedReplicas");
    const long long ready = number(o, "/status/readyReplicas");
    const long long replicas = number(o, "/status/replicas");
    s.progress = std::to_string(updated) + " of " + std::to_string(want) + " updated, " +
                 std::to_string(ready) + " ready";
    if (observed < generation) {
        s.progress = "waiting for the controller to see generation " + std::to_string(generation);
        return s;
    }
    if (kind == "Deployment") {
        for (const auto& c : o.value(json::json_pointer("/status/conditions"), json::array()))
            if (c.value("type", "") == "Progressing" &&
                c.value("reason", "") == "ProgressDeadlineExceeded")
                s.failed = true;
        const long long available = number(o, "/status/availableReplicas");
        s.done = updated == want && replicas == updated && available == updated;
    } else if (text(o, "/spec/updateStrategy/type") == "OnDelete") {
        s.done = true;  // pods change only when someone deletes them: nothing to wait for
    } else if (const long long partition =
                   number(o, "/spec/updateStrategy/rollingUpdate/partition", 0);
               partition > 0) {
        s.done = ready >= want && updated >= want - partition;  // the partition's share
    } else {
        const std::string current = text(o, "/status/currentRevision");
        const std::string update = text(o, "/status/updateRevision");
        s.done = ready == want && updated == want && (update.empty() || current == update);
    }
    return s;
}

// "Available=False (MinimumReplicasUnavailable: ...)" for the first condition that is not True.
std::string failing_condition(const json& o) {
    for (const auto& c : o.value(json::json_pointer("/status/conditions"), json::array()))
        if (c.value("status", "") != "True")
            return c.value("type", "") + "=" + c.value("status", "") + " (" +
                   c.value("reason", "") + ": " + c.value("message", "") + ")";
    return "";
}

// A pod of the workload that is not ready, what it waits for and its last event.
std::string unready_pod(ApiClient& client, const json& o, const std::string& ns) {
    std::string selector;
    const json labels = o.value(json::json_pointer("/spec/selector/matchLabels"), json::object());
    for (const auto& [k, v] : labels.items())
        selector += (selector.empty() ? "" : ",") + k + "=" + v.get<std::string>();
    if (selector.empty()) return "";
    const auto pods =
        client.request("GET", resource_for("v1", "Pod").path(ns) + "?labelSelector=" + selector);
    if (pods.status != 200) return "";
    json list;
    try {
        list = json::parse(pods.body);
    } catch (const json::exception&) {
        return "";
    }
    for (const auto& pod : list.value("items", json::array())) {
        bool ready = false;
        for (const auto& c : pod.value(json::json_pointer("/status/conditions"), json::array()))
            if (c.value("type", "") == "Ready" && c.value("status", "") == "True") ready = true;
        if (ready) continue;
        const std::string name = text(pod, "/metadata/name");
        std::string out = "pod " + name + " is " + text(pod, "/status/phase");
        for (const auto& cs :
             pod.value(json::json_pointer("/status/containerStatuses"), json::array())) {
            const json waiting = cs.value(json::json_pointer("/state/waiting"), json());
            if (waiting.is_object())
                out += ", container " + cs.value("name", "") +
                       " waiting: " + waiting.value("reason", "");
        }
        const auto events =
            client.request("GET", resource_for("v1", "Event").path(ns) +
                                      "?fieldSelector=involvedObject.name%3D" + name);
        if (events.status == 200) {
            try {
                const json e = json::parse(events.body);
                const json items = e.value("items", json::array());
                // The newest event; the kubelet's "Error: <reason>" repeats the waiting
                // reason, so an event that says more (the pull's own error) comes first.
                const json* last = nullptr;
                const json* telling = nullptr;
                std::string last_time, telling_time;
                for (const auto& ev : items) {
                    const json t = ev.value("lastTimestamp", json());
                    const json t2 = ev.value("eventTime", json());
                    const std::string when = t.is_string()    ? t.get<std::string>()
                                             : t2.is_string() ? t2.get<std::string>()
                                                              : std::string();
                    if (last == nullptr || when >= last_time) {
                        last = &ev;
                        last_time = when;
                    }
                    if (ev.value("message", "").rfind("Error: ", 0) != 0 &&
                        ev.value("type", "") == "Warning" &&
                        (telling == nullptr || when >= telling_time)) {
                        telling = &ev;
                        telling_time = when;
                    }
                }
                if (telling != nullptr) last = telling;
                if (last != nullptr)
                    out += "; last event: " + last->value("reason", "") + ": " +
                           last->value("message", "");
            } catch (const json::exception&) {
            }
        }
        return out + " (kubectl describe pod " + name + " -n " + ns + ")";
    }
    return "";
}

}  // namespace

void wait_for_rollout(ApiClient& client, const std::vector<json>& objects, const std::string& ns,
                      std::chrono::seconds timeout, std::chrono::milliseconds poll) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (const auto& object : objects) {
        const std::string kind = object.value("kind", "");
        if (kind != "Deployment" && kind != "StatefulSet") continue;
        const Resource& r = resource_for(object.value("apiVersion", ""), kind);
        const std::string name = object.at("metadata").at("name").get<std::string>();
        std::string shown;
        int looks = 0;
        json now;
        while (true) {
            const auto response = client.request("GET", r.path(ns, name));
            if (response.status != 200)
                throw Error(describe_failure(response, "reading " + object_name(object),
                                             client.access(), ns));
            try {
                now = json::parse(response.body);
            } catch (const json::exception&) {
                throw Error("reading " + object_name(object) + ": the answer is not JSON");
            }
            const State s = state_of(now);
            if (s.done) {
                log::notice(kind + " " + name + " is rolled out (" + s.progress + ")");
                break;
            }
            if (s.progress != shown) {
                log::notice(kind + " " + name + ": " + s.progress);
                shown = s.progress;
            }
            const bool timed_out = std::chrono::steady_clock::now() >= deadline;
            if (s.failed || timed_out) {
                std::string why = failing_condition(now);
                const std::string pod = unready_pod(client, now, ns);
                throw Error(kind + " " + name + " in namespace " + ns +
                            (s.failed ? " exceeded its progress deadline"
                                      : " did not roll out within " +
                                            std::to_string(timeout.count()) + " s") +
                            " (" + s.progress + ")" + (why.empty() ? "" : ": " + why) +
                            (pod.empty() ? "" : "; " + pod));
            }
            std::this_thread::sleep_for(pause_before_look(++looks, poll));
        }
    }
}

}  // namespace dmc::kube
