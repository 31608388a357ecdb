// The steps of a run, one file each, named after the step (steps/<step>.cpp). Each
// takes the run's context and its task; run_step dispatches on the task's step.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apt/archive.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "steps/context.hpp"
#include "tasks/tasks.hpp"

namespace dmc::steps {

void run_step(Context& context, const tasks::Task& task);

void make_dirs(Context& context, const tasks::Task& task);        // setup.cpp
void refresh_indexes(Context& context, const tasks::Task& task);  // setup.cpp: setup, update
void resolve(Context& context, const tasks::Task& task);          // resolve.cpp
void prepare(Context& context, const tasks::Task& task);
void rootfs(Context& context, const tasks::Task& task);
void collect(Context& context, const tasks::Task& task);
void configure(Context& context, const tasks::Task& task);
void pack(Context& context, const tasks::Task& task);
void index(Context& context, const tasks::Task& task);
void push(Context& context, const tasks::Task& task);
void deploy(Context& context, const tasks::Task& task);
void remove(Context& context, const tasks::Task& task);  // delete.cpp

// What the deploy hook of `tmpl` describes, parsed and checked. For a deletion the
// image need not have been pushed, as only the kinds and names count.
struct DeployObjects {
    std::vector<nlohmann::ordered_json> objects;
    std::vector<plugin::GeneratedSecret> secrets;
};
DeployObjects deploy_objects(Context& context, const std::string& tmpl, bool for_delete);
// The namespace objects go to: -N or the config, else the context's (checked as a
// namespace name), else "default". Without access (--print), the kubeconfig's if any.
std::string namespace_for(const Context& context, const kube::ClusterAccess* access);
// The cluster of the run's kubeconfig (or pod), with the namespace objects go to.
struct Cluster {
    std::unique_ptr<kube::ApiClient> client;
    std::string ns;
};
Cluster connect_cluster(const Context& context);
// <builddir>/<dist>/images/<template>/pushed.json: the registry and the image digest
// of the last push, which deploy names.
std::filesystem::path pushed_record(const config::Settings& settings, const std::string& tmpl);

// The packages of a template for an arch, resolved from its saved prepare output
// against the (refreshed) indexes; the answer is kept while its inputs stay the same.
std::vector<apt::PackageRef> resolve_template(Context& context, const std::string& tmpl,
                                              const std::string& arch, bool refresh);

// A lock file: "name version" (or "name=version") per line; '#' comments.
std::map<std::string, std::string> parse_lock_file(const std::string& text,
                                                   const std::string& origin);

}  // namespace dmc::steps
