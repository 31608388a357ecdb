// Where the cluster is and who dmc is there, read the way kubectl reads it:
// --kubeconfig, else the files of KUBECONFIG merged (the first to set a value
// wins), else ~/.kube/config; the current context or --context; and inside a pod,
// the service account's files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dmc::kube {

// An exec credential plugin (client.authentication.k8s.io/v1 or v1beta1).
struct ExecConfig {
    std::string api_version;
    std::string command;
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;
    std::string interactive_mode;  // Never, IfAvailable, Always
    std::string install_hint;
    bool provide_cluster_info = false;
};

struct UserCredentials {
    std::string client_certificate_data, client_key_data;  // PEM
    std::filesystem::path client_certificate, client_key;
    std::string token;
    std::filesystem::path token_file;  // read again for every request, as it rotates
    std::string username, password;
    std::optional<ExecConfig> exec;
};

struct ClusterAccess {
    std::string server;   // https://host:port[/path]
    std::string ca_data;  // PEM
    std::filesystem::path ca_file;
    bool insecure_skip_tls_verify = false;
    std::string tls_server_name;
    std::string proxy_url;
    std::string ns;  // the context's namespace; empty: none
    UserCredentials user;
    std::string context;  // its name, for messages ("in-cluster" inside a pod)
    std::string source;   // the files it came from, for messages
};

struct KubeconfigRequest {
    std::filesystem::path kubeconfig;           // --kubeconfig / the setting; empty: KUBECONFIG
    std::string context;                        // --context; empty: the current context
    std::optional<std::string> kubeconfig_env;  // $KUBECONFIG
    std::filesystem::path home;                 // for ~/.kube/config
    // Inside a pod: KUBERNETES_SERVICE_HOST and _PORT, and the account's files.
    std::optional<std::string> service_host, service_port;
    std::filesystem::path service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// The request with KUBECONFIG, HOME and the in-cluster variables of this process.
KubeconfigRequest request_from_environment(std::filesystem::path kubeconfig, std::string context);

// The kubeconfig files that apply, in kubectl's order; empty when there are none.
std::vector<std::filesystem::path> kubeconfig_files(const KubeconfigRequest& request);

// Whether there is a cluster to deploy to: a kubeconfig file, or a pod's account.
bool cluster_configured(const KubeconfigRequest& request);

// The access the request chooses. Throws Error naming the file and what is missing:
// no kubeconfig, an unknown context, a context without cluster or user.
ClusterAccess load_access(const KubeconfigRequest& request);

}  // namespace dmc::kube
