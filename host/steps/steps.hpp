// The steps of a run, one file each, named after the step (steps/<step>.cpp). Each
// takes the run's context and its task; run_step dispatches on the task's step.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apt/archive.hpp"
#include "image/oci.hpp"
#include "kube/client.hpp"
#include "kube/kubeconfig.hpp"
#include "lock/lock.hpp"
#include "registry/push.hpp"
#include "source/buildenv.hpp"
#include "source/source.hpp"
#include "steps/context.hpp"
#include "tasks/tasks.hpp"

namespace dmc::steps {

void run_step(Context& context, const tasks::Task& task);

void make_dirs(Context& context, const tasks::Task& task);        // setup.cpp
void refresh_indexes(Context& context, const tasks::Task& task);  // setup.cpp: setup, update
void resolve(Context& context, const tasks::Task& task);          // resolve.cpp
void prepare(Context& context, const tasks::Task& task);
void rootfs(Context& context, const tasks::Task& task);
// build.cpp, for the rootfs step: the tree with the template's build from source laid
// over the package set `set`, or `set` itself when the template builds nothing.
std::string build_from_source(Context& context, const std::string& tmpl, const std::string& arch,
                              const std::string& set);
// build.cpp: the source the template builds from, located as the lock has it (the
// resolve step puts it there) and not fetched yet; nullopt when it builds nothing.
std::optional<source::Source> template_source(Context& context, const std::string& tmpl,
                                              const std::string& arch);
// The build environment that source is built in, for the template's dist and arch.
source::BuildEnvRequest buildenv_request(Context& context, const std::string& tmpl,
                                         const std::string& arch, const source::Source& src);
// The keyring a .dsc's signature is checked with: source_keyring, else debian-keyring's
// when installed, else none (the .dsc is trusted through the signed Sources index).
std::filesystem::path source_keyring(const config::Settings& settings);
void fetch_sources(Context& context, const tasks::Task& task);       // sources.cpp: setup
void build_environments(Context& context, const tasks::Task& task);  // buildenv.cpp

void collect(Context& context, const tasks::Task& task);
void configure(Context& context, const tasks::Task& task);
void pack(Context& context, const tasks::Task& task);
// Starts writing the layer of an image whose configure step just ended, when this
// run packs it later (steps/pack).
void start_layer(Context& context, const tasks::Task& configured);
void index(Context& context, const tasks::Task& task);
void push(Context& context, const tasks::Task& task);
// How the push, sign and verify steps reach the registry (-H and the registry_* settings).
registry::PushOptions push_options(const config::Settings& settings);
void attach(Context& context, const tasks::Task& task);
void sign(Context& context, const tasks::Task& task);
void verify(Context& context, const tasks::Task& task);
void diff(Context& context, const tasks::Task& task);
void why(Context& context, const tasks::Task& task);
void keygen(Context& context, const tasks::Task& task);
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
// push.cpp: the image of `tmpl` as its last push left it, which must be the index the
// layout holds at the tag now (what attach and sign work on).
struct PushedImage {
    std::string repository;            // "host/repo"
    image::Descriptor index;           // in the layout
    std::filesystem::path record_dir;  // where the push record is, for what goes with it
};
PushedImage pushed_image(const Context& context, const std::string& tmpl);

// The packages of a template for an arch. follow: the lock's entry when it was made
// for what the templates ask now, else resolved from its saved prepare output against
// the verified indexes (keeping the locked versions they still have) and locked.
// renew: resolved afresh and put in the lock, not saved (update saves it).
enum class LockUse { follow, renew };
std::vector<apt::PackageRef> resolve_template(Context& context, const std::string& tmpl,
                                              const std::string& arch,
                                              LockUse use = LockUse::follow);
// A lock entry's packages, to fetch from where they came.
std::vector<apt::PackageRef> locked_refs(const lock::Entry& entry,
                                         const std::vector<config::Mirror>& configured = {});

// inputs.cpp: what an image is built from besides its packages: the templates whose
// hooks make it (name -> version) and the options that change its bytes.
std::map<std::string, std::string> image_templates(const Context& context, const std::string& tmpl);
std::map<std::string, std::string> image_options(const Context& context, const std::string& tmpl);
// Whether the image of `tmpl` for `arch` is built already from the same inputs (its
// packages' digests, its templates' names, versions and files, its options, this dmc);
// decided once a run and logged as "unchanged" or "rebuilt: <what changed>".
bool image_current(Context& context, const std::string& tmpl, const std::string& arch);
// Records what the image just packed was built from, for the next run's decision,
// and for its provenance (build_record_file: the command, options, templates,
// packages and Release files, with their digests).
void save_inputs(Context& context, const std::string& tmpl, const std::string& arch);
std::filesystem::path build_record_file(const Context& context, const std::string& tmpl,
                                        const std::string& arch);

void lock_images(Context& context, const tasks::Task& task);  // lock.cpp: update's lock

// pack.cpp: where the image of a template and arch goes, and its manifest when it is
// there whole (the layout's blob, the docker archive and the SBOMs).
struct ImageOutputs {
    std::filesystem::path layout, docker_archive, sbom, cyclonedx;
};
ImageOutputs image_outputs(const Context& context, const std::string& tmpl,
                           const std::string& arch);
std::optional<image::Descriptor> built_image(const Context& context, const std::string& tmpl,
                                             const std::string& arch);

// push.cpp: the manifests of a pushed index that dmc built here, for the run's archs,
// with their outputs (the SBOMs). An index dmc did not build has none.
struct PushedPart {
    std::string arch;
    image::Descriptor manifest;
    ImageOutputs outputs;
};
std::vector<PushedPart> pushed_parts(const Context& context, const std::string& tmpl,
                                     const PushedImage& pushed);

}  // namespace dmc::steps
