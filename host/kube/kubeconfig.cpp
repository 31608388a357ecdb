#include "kube/kubeconfig.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <map>

#include "util/base64.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc::kube {
namespace {

std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
}

// One named entry of a kubeconfig (a cluster, user or context) and the file it is in:
// relative paths in it are relative to that file, as kubectl has it.
struct Entry {
    YAML::Node node;
    fs::path file;
};

struct Merged {
    std::map<std::string, Entry> clusters, users, contexts;
    std::string current_context;
    std::vector<fs::path> files;
};

// A value that should be one scalar and is not: the caller names the file.
struct NotScalar {
    std::string key;
};

std::string scalar(const YAML::Node& node, const char* key) {
    const YAML::Node v = node[key];
    if (!v || v.IsNull()) return "";
    if (!v.IsScalar()) throw NotScalar{key};
    return v.as<std::string>();
}

void merge_file(Merged& merged, const fs::path& file) {
    YAML::Node root;
    try {
        root = YAML::Load(read_file(file));
    } catch (const YAML::Exception& e) {
        throw Error("kubeconfig " + file.string() + " line " + std::to_string(e.mark.line + 1) +
                    ": " + e.msg + "; fix the file or choose another with --kubeconfig");
    }
    if (!root || root.IsNull()) return;
    if (!root.IsMap())
        throw Error("kubeconfig " + file.string() + " is not a kubeconfig (not a mapping)");
    merged.files.push_back(file);
    // The first file to set a name (or the current context) wins.
    auto take = [&](const char* list, const char* item, std::map<std::string, Entry>& into) {
        const YAML::Node entries = root[list];
        if (!entries || entries.IsNull()) return;
        if (!entries.IsSequence())
            throw Error("kubeconfig " + file.string() + ": '" + list + "' is not a list");
        for (const auto& e : entries) {
            const std::string name = e.IsMap() ? scalar(e, "name") : "";
            if (name.empty())
                throw Error("kubeconfig " + file.string() + ": an entry of '" + list +
                            "' has no name");
            if (!e[item] || !e[item].IsMap())
                throw Error("kubeconfig " + file.string() + ": " + list + " '" + name +
                            "' has no '" + item + "' mapping");
            into.emplace(name, Entry{e[item], file});
        }
    };
    try {
        take("clusters", "cluster", merged.clusters);
        take("users", "user", merged.users);
        take("contexts", "context", merged.contexts);
        if (merged.current_context.empty())
            merged.current_context = scalar(root, "current-context");
    } catch (const YAML::Exception& e) {
        throw Error("kubeconfig " + file.string() + ": " + e.msg);
    } catch (const NotScalar& e) {
        throw Error("kubeconfig " + file.string() + ": '" + e.key +
                    "' must be a single value; fix the file");
    }
}

fs::path relative_to(const fs::path& file, const std::string& path) {
    if (path.empty()) return {};
    const fs::path p(path);
    return p.is_absolute() ? p : (file.parent_path() / p).lexically_normal();
}

std::string decoded(const std::string& data, const std::string& what, const Entry& entry) {
    if (data.empty()) return "";
    auto out = base64_decode(data);
    if (!out)
        throw Error("kubeconfig " + entry.file.string() + ": " + what +
                    " is not base64; put the PEM file's base64 there");
    return *out;
}

bool truth(const std::string& text) { return text == "true" || text == "True" || text == "1"; }

UserCredentials user_of(const Entry& e) {
    const YAML::Node& n = e.node;
    UserCredentials u;
    u.client_certificate_data =
        decoded(scalar(n, "client-certificate-data"), "client-certificate-data", e);
    u.client_key_data = decoded(scalar(n, "client-key-data"), "client-key-data", e);
    u.client_certificate = relative_to(e.file, scalar(n, "client-certificate"));
    u.client_key = relative_to(e.file, scalar(n, "client-key"));
    u.token = scalar(n, "token");
    u.token_file = relative_to(e.file, scalar(n, "tokenFile"));
    u.username = scalar(n, "username");
    u.password = scalar(n, "password");
    if (n["auth-provider"])
        throw Error("kubeconfig " + e.file.string() +
                    ": auth-provider plugins are gone from kubectl too; use an exec "
                    "credential plugin");
    if (const YAML::Node x = n["exec"]; x && x.IsMap()) {
        ExecConfig c;
        c.api_version = scalar(x, "apiVersion");
        c.command = scalar(x, "command");
        c.interactive_mode = scalar(x, "interactiveMode");
        c.install_hint = scalar(x, "installHint");
        c.provide_cluster_info = truth(scalar(x, "provideClusterInfo"));
        if (x["args"] && x["args"].IsSequence())
            for (const auto& a : x["args"]) c.args.push_back(a.as<std::string>());
        if (x["env"] && x["env"].IsSequence())
            for (const auto& v : x["env"])
                c.env.emplace_back(scalar(v, "name"), scalar(v, "value"));
        if (c.command.empty())
            throw Error("kubeconfig " + e.file.string() + ": the exec plugin has no command");
        if (c.api_version != "client.authentication.k8s.io/v1" &&
            c.api_version != "client.authentication.k8s.io/v1beta1")
            throw Error("kubeconfig " + e.file.string() + ": the exec plugin's apiVersion '" +
                        c.api_version + "' is not client.authentication.k8s.io/v1 or v1beta1");
        if (c.interactive_mode.empty())
            c.interactive_mode =
                c.api_version == "client.authentication.k8s.io/v1" ? "" : "IfAvailable";
        if (c.api_version == "client.authentication.k8s.io/v1" && c.interactive_mode.empty())
            throw Error("kubeconfig " + e.file.string() +
                        ": the exec plugin needs interactiveMode (Never, IfAvailable or Always) "
                        "with client.authentication.k8s.io/v1");
        if (c.interactive_mode != "Never" && c.interactive_mode != "IfAvailable" &&
            c.interactive_mode != "Always")
            throw Error("kubeconfig " + e.file.string() + ": interactiveMode '" +
                        c.interactive_mode + "' is not Never, IfAvailable or Always");
        // A relative command with a slash is relative to the kubeconfig file.
        if (c.command.find('/') != std::string::npos)
            c.command = relative_to(e.file, c.command).string();
        u.exec = std::move(c);
    }
    return u;
}

ClusterAccess in_cluster(const KubeconfigRequest& r) {
    ClusterAccess a;
    std::string host = *r.service_host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6
    a.server = "https://" + host + ":" + r.service_port.value_or("443");
    a.ca_file = r.service_account_dir / "ca.crt";
    a.user.token_file = r.service_account_dir / "token";
    std::error_code ec;
    if (fs::exists(r.service_account_dir / "namespace", ec)) {
        a.ns = read_file(r.service_account_dir / "namespace");
        while (!a.ns.empty() && (a.ns.back() == '\n' || a.ns.back() == ' ')) a.ns.pop_back();
    }
    a.context = "in-cluster";
    a.source = "the pod's service account (" + r.service_account_dir.string() + ")";
    return a;
}

bool in_cluster_available(const KubeconfigRequest& r) {
    std::error_code ec;
    return r.service_host && !r.service_host->empty() &&
           fs::exists(r.service_account_dir / "token", ec);
}

}  // namespace

KubeconfigRequest request_from_environment(fs::path kubeconfig, std::string context) {
    KubeconfigRequest r;
    r.kubeconfig = std::move(kubeconfig);
    r.context = std::move(context);
    r.kubeconfig_env = env("KUBECONFIG");
    if (auto home = env("HOME")) r.home = *home;
    r.service_host = env("KUBERNETES_SERVICE_HOST");
    r.service_port = env("KUBERNETES_SERVICE_PORT");
    return r;
}

std::vector<fs::path> kubeconfig_files(const KubeconfigRequest& r) {
    std::error_code ec;
    if (!r.kubeconfig.empty()) return {r.kubeconfig};  // given: it must exist
    std::vector<fs::path> out;
    if (r.kubeconfig_env && !r.kubeconfig_env->empty()) {
        // Colon-separated; missing files are skipped and a file named twice counts once.
        std::size_t start = 0;
        const std::string& list = *r.kubeconfig_env;
        while (start <= list.size()) {
            auto colon = list.find(':', start);
            if (colon == std::string::npos) colon = list.size();
            const fs::path file = list.substr(start, colon - start);
            start = colon + 1;
            if (file.empty() || !fs::exists(file, ec)) continue;
            if (std::find(out.begin(), out.end(), file) == out.end()) out.push_back(file);
        }
        return out;
    }
    if (!r.home.empty() && fs::exists(r.home / ".kube" / "config", ec))
        out.push_back(r.home / ".kube" / "config");
    return out;
}

bool cluster_configured(const KubeconfigRequest& r) {
    return !kubeconfig_files(r).empty() || in_cluster_available(r);
}

static ClusterAccess load_access_of(const KubeconfigRequest& r);

ClusterAccess load_access(const KubeconfigRequest& r) {
    // Whatever a hand-edited file holds in the wrong shape is named with the file.
    std::string files;
    for (const auto& f : kubeconfig_files(r)) files += (files.empty() ? "" : ":") + f.string();
    try {
        return load_access_of(r);
    } catch (const YAML::Exception& e) {
        throw Error("kubeconfig " + files + ": " + e.msg + "; fix the file");
    } catch (const NotScalar& e) {
        throw Error("kubeconfig " + files + ": '" + e.key +
                    "' must be a single value; fix the file");
    }
}

static ClusterAccess load_access_of(const KubeconfigRequest& r) {
    const auto files = kubeconfig_files(r);
    if (files.empty()) {
        if (in_cluster_available(r) && r.context.empty()) return in_cluster(r);
        throw Error(r.kubeconfig_env && !r.kubeconfig_env->empty()
                        ? "none of the files in KUBECONFIG exists; set KUBECONFIG or give "
                          "--kubeconfig FILE"
                        : "no kubeconfig: ~/.kube/config does not exist; give --kubeconfig FILE, "
                          "set KUBECONFIG, or use --print to write the manifests instead");
    }
    Merged m;
    for (const auto& f : files) {
        std::error_code ec;
        if (!fs::is_regular_file(f, ec))
            throw Error("kubeconfig " + f.string() +
                        " does not exist or is not a file; check --kubeconfig");
        merge_file(m, f);
    }
    std::string source;
    for (const auto& f : m.files) source += (source.empty() ? "" : ":") + f.string();
    if (source.empty()) source = files.front().string();

    const std::string name = r.context.empty() ? m.current_context : r.context;
    if (name.empty())
        throw Error("kubeconfig " + source +
                    " has no current-context; choose one with --context NAME");
    const auto ctx = m.contexts.find(name);
    if (ctx == m.contexts.end()) {
        std::string known;
        for (const auto& [n, e] : m.contexts) known += (known.empty() ? "" : ", ") + n;
        throw Error("kubeconfig " + source + " has no context '" + name +
                    "' (contexts: " + (known.empty() ? std::string("none") : known) + ")");
    }
    ClusterAccess a;
    a.context = name;
    a.source = source;
    const std::string cluster_name = scalar(ctx->second.node, "cluster");
    const std::string user_name = scalar(ctx->second.node, "user");
    a.ns = scalar(ctx->second.node, "namespace");
    const auto cluster = m.clusters.find(cluster_name);
    if (cluster == m.clusters.end())
        throw Error("kubeconfig " + source + ": the context '" + name + "' names the cluster '" +
                    cluster_name + "', which is not defined");
    const Entry& c = cluster->second;
    a.server = scalar(c.node, "server");
    if (a.server.empty())
        throw Error("kubeconfig " + c.file.string() + ": the cluster '" + cluster_name +
                    "' has no server");
    a.ca_data =
        decoded(scalar(c.node, "certificate-authority-data"), "certificate-authority-data", c);
    a.ca_file = relative_to(c.file, scalar(c.node, "certificate-authority"));
    a.insecure_skip_tls_verify = truth(scalar(c.node, "insecure-skip-tls-verify"));
    a.tls_server_name = scalar(c.node, "tls-server-name");
    a.proxy_url = scalar(c.node, "proxy-url");
    if (!user_name.empty()) {
        const auto user = m.users.find(user_name);
        if (user == m.users.end())
            throw Error("kubeconfig " + source + ": the context '" + name + "' names the user '" +
                        user_name + "', which is not defined");
        a.user = user_of(user->second);
    }
    return a;
}

}  // namespace dmc::kube
