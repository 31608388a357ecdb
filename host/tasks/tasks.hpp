// The task model: an activity over the selected templates and archs becomes an
// ordered, numbered list of tasks. -l prints it; -b, -e and -o pick a part of it.
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace dmc::tasks {

struct Activity {
    std::string name, description;
};
// setup, update, create, load, deploy, resolve, keygen, verify; deletion is create/deploy with -X.
const std::vector<Activity>& activities();
bool is_activity(const std::string& name);

// What a task runs: one step of the build (host/steps, a file each).
enum class Step {
    dirs,
    setup,
    update,
    lock,
    sources,          // setup: fetch and verify the sources of builds from source
    buildenv,         // setup: make their build environments
    update_buildenv,  // update: make them again where the indexes changed
    resolve,
    prepare,
    rootfs,
    collect,
    configure,
    pack,
    index,
    push,
    attach,
    sign,
    verify,
    diff,
    why,
    keygen,
    deploy,
    remove
};

struct Task {
    std::string name;         // unique, e.g. "nginx.amd64.collect"
    std::string description;  // one line
    std::string template_name;
    std::string arch;
    Step step = Step::prepare;
};

struct PlanRequest {
    std::string activity;
    std::vector<std::string> templates;  // in build order
    std::vector<std::string> archs;
    std::string dist;
    bool remove = false;  // -X
    bool push = false;    // a registry is set
    bool sign = false;    // a signing key is set: what is pushed is signed and attested
    bool deploy = false;  // create ends with deploy: a cluster (or --print) is there
};

std::vector<Task> plan(const PlanRequest& request);

// A task by 1-based number or by name; throws UsageError listing what exists.
std::size_t find_task(const std::vector<Task>& tasks, const std::string& ref);

// The indices of the tasks that -b/-e or -o name: the range to run.
std::vector<std::size_t> task_range(const std::vector<Task>& tasks,
                                    const std::optional<std::string>& begin,
                                    const std::optional<std::string>& end,
                                    const std::optional<std::string>& only);

// The numbered list, as -l prints it.
void print(std::ostream& out, const std::vector<Task>& tasks);

// Runs the selected tasks in order; the first failure stops the run. Returns the
// index of the failed task, or nullopt when all succeeded.
using Executor = std::function<void(const Task&)>;
std::optional<std::size_t> run(const std::vector<Task>& tasks,
                               const std::vector<std::size_t>& range, const Executor& execute);

}  // namespace dmc::tasks
