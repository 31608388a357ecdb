// The deploy step: the template's deploy hook describes its Kubernetes objects for
// the image as last pushed (by digest); dmc prints them (--print) or applies them
// with server-side apply, makes the Secrets it generates once, and waits for the
// rollout. The delete step (delete.cpp) takes the same objects away.
#include <fstream>
#include <iostream>

#include "image/layout_reader.hpp"
#include "kube/manifest.hpp"
#include "kube/operations.hpp"
#include "kube/resources.hpp"
#include "log/log.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace dmc::steps {
namespace {

// The numbers of the image's user ("www-data", "33", "33:33", "mysql:mysql").
std::pair<std::uint32_t, std::uint32_t> numeric_user(const plugin::ConfigureResult& cfg,
                                                     const std::string& tmpl) {
    const std::string user = cfg.image.user;
    if (user.empty() || user == "root" || user == "0" || user.rfind("0:", 0) == 0)
        throw Error("the " + tmpl +
                    " image runs as root; Kubernetes objects from dmc run as non-root: set a "
                    "user in the template's configure hook (run_as)");
    const std::string name = user.substr(0, user.find(':'));
    const std::string group =
        user.find(':') == std::string::npos ? std::string() : user.substr(user.find(':') + 1);
    auto number = [](const std::string& s) -> std::optional<std::uint32_t> {
        if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9)
            return std::nullopt;
        return static_cast<std::uint32_t>(std::stoul(s));
    };
    std::optional<std::uint32_t> uid = number(name), gid = number(group);
    for (const auto& u : cfg.users)
        if (u.name == name) {
            uid = u.uid;
            if (group.empty()) gid = u.gid;
        }
    if (!gid && !group.empty())
        for (const auto& g : cfg.groups)
            if (g.name == group) gid = g.gid;
    if (!uid)
        throw Error("the " + tmpl + " image's user '" + name +
                    "' is not in its /etc/passwd; add it in the configure hook");
    if (*uid == 0) throw Error("the " + tmpl + " image's user '" + name + "' is root (uid 0)");
    if (gid.value_or(*uid) == 0)
        throw Error("the " + tmpl + " image's user '" + user +
                    "' has the root group (gid 0); give it a group of its own in the "
                    "configure hook");
    return {*uid, gid.value_or(*uid)};
}

std::string file_name(std::size_t index, const json& object) {
    std::string kind = object.value("kind", "");
    for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%02zu-", index + 1);
    return prefix + kind + "-" + object["metadata"]["name"].get<std::string>() + ".yaml";
}

}  // namespace

std::string namespace_for(const Context& context, const kube::ClusterAccess* access) {
    if (!context.settings.ns.empty()) return context.settings.ns;  // checked as a setting
    std::string ns;
    std::string source;
    if (access != nullptr) {
        ns = access->ns;
        source = access->source;
    } else {
        // --print: the context's namespace when there is a kubeconfig to read it from.
        try {
            auto request = kube::request_from_environment(context.settings.kubeconfig,
                                                          context.settings.kube_context);
            if (kube::cluster_configured(request)) {
                auto a = kube::load_access(request);
                ns = a.ns;
                source = a.source;
            }
        } catch (const Error&) {
        }
    }
    if (ns.empty()) return "default";
    const bool label =
        ns.size() <= 63 &&
        ns.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos &&
        ns.front() != '-' && ns.back() != '-';
    if (!label)
        throw Error("the namespace '" + ns + "' of " + source +
                    " is not a Kubernetes namespace name; fix it there or give one with -N");
    return ns;
}

Cluster connect_cluster(const Context& context) {
    const auto& settings = context.settings;
    auto access = kube::load_access(
        kube::request_from_environment(settings.kubeconfig, settings.kube_context));
    std::string ns = namespace_for(context, &access);
    net::RetryPolicy retry;  // the archive's rule, with the run's settings
    retry.retries = settings.retries;
    retry.retry_time_s = settings.retry_time;
    return {std::make_unique<kube::ApiClient>(std::move(access), retry), std::move(ns)};
}

fs::path pushed_record(const config::Settings& settings, const std::string& tmpl) {
    return child_path(child_path(child_path(settings.build_dir, settings.dist), "images"), tmpl) /
           "pushed.json";
}

DeployObjects deploy_objects(Context& context, const std::string& tmpl, bool for_delete) {
    const plugin::Template* t = context.catalog.find(tmpl);
    if (t == nullptr) throw Error("there is no template " + tmpl);
    if (t->plugin.deploy == nullptr)
        throw Error("the template " + tmpl +
                    " has no deploy hook, so it makes no Kubernetes objects");
    const auto& settings = context.settings;
    const std::string arch = settings.archs.front();
    plugin::HookSettings hook = context.hook_settings(*t, arch, tmpl);

    // The image by digest, as last pushed: a deployment runs exactly what was built.
    const fs::path record = pushed_record(settings, tmpl);
    std::error_code ec;
    const bool pushed = fs::exists(record, ec);
    if (pushed) {
        json last;
        try {
            last = json::parse(read_file(record));
        } catch (const json::exception&) {
            throw Error(record.string() + " is damaged; push " + tmpl + " again: dmc -a load -t " +
                        tmpl + " -H REGISTRY");
        }
        const std::string registry = last.value("registry", "");
        if (!settings.registry.empty() && registry != settings.registry && !for_delete)
            throw Error(tmpl + " was last pushed to " + registry + ", not " + settings.registry +
                        "; push it there first: dmc -a load -t " + tmpl + " -H " +
                        settings.registry);
        hook["image"] = last.value("image", "");
    }
    // The image's user as numbers, and its version, from what was built.
    const fs::path work = context.work_dir(tmpl, arch);
    const bool built = fs::exists(work / "configure.json", ec);
    if (built && !for_delete) {
        const auto [uid, gid] = numeric_user(load_configure(work), tmpl);
        hook["uid"] = std::to_string(uid);
        hook["gid"] = std::to_string(gid);
        const fs::path layout = child_path(settings.image_dir, tmpl);
        if (fs::exists(layout / "index.json", ec))
            hook["image_version"] =
                image::config_label(layout, settings.tag, "org.opencontainers.image.version");
    }
    plugin::DeployResult result;
    plugin::run_deploy(*t, hook, result);
    DeployObjects out;
    if (result.objects.empty() && result.secrets.empty()) return out;  // none to make
    if (!for_delete && !pushed)
        throw Error(tmpl +
                    " has not been pushed to a registry, and a cluster needs an image "
                    "it can pull by digest; push it first: dmc -a load -t " +
                    tmpl + " -H REGISTRY");
    if (!for_delete && !built)
        throw Error("no " + tmpl + " build for " + arch + " in " + work.string() +
                    "; build it first: dmc -t " + tmpl + " -A " + arch);
    const std::string origin = "the deploy hook of " + tmpl;
    for (const auto& text : result.objects) {
        auto object = kube::parse_object(text, origin);
        // Every kind is checked before anything is sent, so no deploy stops halfway.
        try {
            kube::resource_for(object["apiVersion"].get<std::string>(),
                               object["kind"].get<std::string>());
        } catch (const Error& e) {
            throw Error(origin + " gave an object that " + e.what());
        }
        out.objects.push_back(std::move(object));
    }
    for (const auto& s : result.secrets) {
        if (!kube::valid_object_name(s.name))
            throw Error(origin + " asked for the Secret '" + s.name +
                        "', which is not a DNS-1123 name");
        out.secrets.push_back(s);
    }
    return out;
}

void deploy(Context& context, const tasks::Task& task) {
    const auto& settings = context.settings;
    const std::string& tmpl = task.template_name;
    auto objects = deploy_objects(context, tmpl, false);
    if (objects.objects.empty() && objects.secrets.empty()) {
        log::notice("the template " + tmpl + " makes no Kubernetes objects; nothing to deploy");
        return;
    }

    if (!context.print_to.empty()) {
        const std::string ns = namespace_for(context, nullptr);
        std::string all;
        std::vector<std::pair<std::string, std::string>> files;
        for (std::size_t i = 0; i < objects.objects.size(); ++i) {
            json o = objects.objects[i];
            if (kube::resource_for(o["apiVersion"], o["kind"]).namespaced)
                o["metadata"]["namespace"] = ns;
            const std::string yaml = kube::to_yaml(o);
            all += "---\n" + yaml;
            files.emplace_back(file_name(i, o), yaml);
        }
        // A generated Secret holds passwords: it is never printed, only named.
        std::string note;
        for (const auto& s : objects.secrets) {
            std::string literals;
            for (const auto& k : s.keys) literals += " --from-literal=" + k + "=...";
            note += "# The Secret " + s.name + " is made by dmc -a deploy with random values; " +
                    "without dmc: kubectl create secret generic " + s.name + " -n " + ns +
                    literals + "\n";
        }
        if (context.print_to == "-") {
            std::cout << note << all;
            std::cout.flush();
            return;
        }
        // DIR/<template>/ is replaced whole: no file of an object that is gone stays
        // behind for `kubectl apply -R -f DIR` to apply.
        const fs::path dir = child_path(context.print_to, tmpl);
        const fs::path fresh = temp_sibling(dir);
        fs::create_directories(fresh);
        for (const auto& [name, yaml] : files) write_file_atomic(fresh / name, yaml);
        fs::remove_all(dir);
        fs::rename(fresh, dir);
        if (!note.empty()) log::notice(note.substr(2, note.size() - 3));
        log::notice("wrote " + std::to_string(files.size()) + " manifests of " + tmpl + " to " +
                    dir.string());
        return;
    }

    auto [client, ns] = connect_cluster(context);
    log::info("deploying " + tmpl + " to namespace " + ns + " of context " +
              client->access().context);
    for (const auto& s : objects.secrets) {
        json labels = {{"app.kubernetes.io/name", tmpl},
                       {"app.kubernetes.io/instance", tmpl},
                       {"app.kubernetes.io/managed-by", "dmc"}};
        if (kube::create_secret_once(*client, s.name, s.keys, labels, ns))
            log::notice("created the Secret " + s.name + " with random values (kept from now on)");
        else
            log::info("the Secret " + s.name + " exists and is left as it is");
    }
    for (const auto& o : objects.objects) {
        kube::apply_object(*client, o, ns, settings.force_conflicts);
        log::info("applied " + kube::object_name(o));
    }
    kube::wait_for_rollout(*client, objects.objects, ns,
                           std::chrono::seconds(settings.rollout_timeout));
    log::result(tmpl + " deployed to " + ns);
}

}  // namespace dmc::steps
