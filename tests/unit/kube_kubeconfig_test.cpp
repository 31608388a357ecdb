#include <gtest/gtest.h>

#include <fstream>

#include "kube/kubeconfig.hpp"
#include "util/base64.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;
using namespace dmc::kube;

namespace {

class Kubeconfig : public ::testing::Test {
  protected:
    void SetUp() override {
        dir = fs::temp_directory_path() /
              ("dmc-kubeconfig-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }
    fs::path write(const std::string& name, const std::string& text) {
        const fs::path p = dir / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p;
    }
    fs::path dir;
};

const char* kFirst = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: one
  cluster:
    server: https://one.example:6443
    certificate-authority: ca.pem
    tls-server-name: kubernetes.test
contexts:
- name: dev
  context: {cluster: one, user: alice, namespace: web}
users:
- name: alice
  user:
    token: first-token
)";

const char* kSecond = R"(current-context: prod
clusters:
- name: one
  cluster: {server: https://shadowed.example}
- name: two
  cluster:
    server: https://two.example
    insecure-skip-tls-verify: true
    proxy-url: http://proxy.example:3128
contexts:
- name: prod
  context: {cluster: two, user: bob}
users:
- name: alice
  user: {token: shadowed}
- name: bob
  user:
    username: bob
    password: secret
)";

TEST_F(Kubeconfig, MergesKubeconfigFilesTheFirstToSetAValueWinning) {
    const auto a = write("a/config", kFirst), b = write("b/config", kSecond);
    KubeconfigRequest r;
    r.kubeconfig_env = a.string() + ":" + (dir / "missing").string() + ":" + b.string();
    ASSERT_EQ(kubeconfig_files(r).size(), 2u);  // a missing file is skipped
    const auto access = load_access(r);
    EXPECT_EQ(access.context, "dev");                      // the first current-context
    EXPECT_EQ(access.server, "https://one.example:6443");  // not the second file's "one"
    EXPECT_EQ(access.ca_file, dir / "a" / "ca.pem");       // relative to its own file
    EXPECT_EQ(access.tls_server_name, "kubernetes.test");
    EXPECT_EQ(access.ns, "web");
    EXPECT_EQ(access.user.token, "first-token");

    r.context = "prod";  // --context picks a context of the second file
    const auto prod = load_access(r);
    EXPECT_EQ(prod.server, "https://two.example");
    EXPECT_TRUE(prod.insecure_skip_tls_verify);
    EXPECT_EQ(prod.proxy_url, "http://proxy.example:3128");
    EXPECT_EQ(prod.user.username, "bob");
    EXPECT_EQ(prod.user.password, "secret");
    EXPECT_EQ(prod.ns, "");
}

TEST_F(Kubeconfig, KubeconfigOptionWinsOverTheEnvironmentAndHome) {
    const auto a = write("a/config", kFirst), b = write("b/config", kSecond);
    write("home/.kube/config", kSecond);
    KubeconfigRequest r;
    r.home = dir / "home";
    EXPECT_EQ(kubeconfig_files(r), std::vector<fs::path>{dir / "home/.kube/config"});
    r.kubeconfig_env = b.string();
    EXPECT_EQ(kubeconfig_files(r), std::vector<fs::path>{b});
    r.kubeconfig = a;
    EXPECT_EQ(kubeconfig_files(r), std::vector<fs::path>{a});
    EXPECT_EQ(load_access(r).context, "dev");
}

TEST_F(Kubeconfig, CredentialsAsDataFilesTokenFileAndExec) {
    const std::string cert = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n";
    const auto file = write("config", std::string(R"(current-context: c
clusters:
- name: k
  cluster:
    server: https://127.0.0.1:1
    certificate-authority-data: )") + dmc::base64_encode(cert) +
                                          R"(
contexts:
- {name: c, context: {cluster: k, user: u}}
- {name: e, context: {cluster: k, user: x}}
- {name: f, context: {cluster: k, user: files}}
users:
- name: u
  user:
    client-certificate-data: )" + dmc::base64_encode(cert) +
                                          R"(
    client-key-data: )" + dmc::base64_encode("KEY") +
                                          R"(
- name: files
  user:
    client-certificate: certs/client.pem
    client-key: /abs/client.key
    tokenFile: token
- name: x
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/credential
      args: [get, --cluster, k]
      env: [{name: A, value: b}]
      interactiveMode: Never
      provideClusterInfo: true
)");
    KubeconfigRequest r;
    r.kubeconfig = file;
    auto a = load_access(r);
    EXPECT_EQ(a.ca_data, cert);
    EXPECT_EQ(a.user.client_certificate_data, cert);
    EXPECT_EQ(a.user.client_key_data, "KEY");
    r.context = "f";
    a = load_access(r);
    EXPECT_EQ(a.user.client_certificate, dir / "certs/client.pem");
    EXPECT_EQ(a.user.client_key, "/abs/client.key");
    EXPECT_EQ(a.user.token_file, dir / "token");
    r.context = "e";
    a = load_access(r);
    ASSERT_TRUE(a.user.exec.has_value());
    EXPECT_EQ(a.user.exec->command, (dir / "bin/credential").string());
    EXPECT_EQ(a.user.exec->args, (std::vector<std::string>{"get", "--cluster", "k"}));
    ASSERT_EQ(a.user.exec->env.size(), 1u);
    EXPECT_EQ(a.user.exec->env[0].second, "b");
    EXPECT_EQ(a.user.exec->interactive_mode, "Never");
    EXPECT_TRUE(a.user.exec->provide_cluster_info);
}

TEST_F(Kubeconfig, MissingContextClusterOrUserIsAClearError) {
    const auto file = write("config", R"(current-context: gone
clusters: [{name: k, cluster: {server: https://x}}]
contexts:
- {name: nouser, context: {cluster: k, user: ghost}}
- {name: nocluster, context: {cluster: ghost, user: u}}
users: [{name: u, user: {token: t}}]
)");
    KubeconfigRequest r;
    r.kubeconfig = file;
    auto message = [&](const std::string& context) {
        r.context = context;
        try {
            load_access(r);
        } catch (const dmc::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message("").find("has no context 'gone' (contexts: nocluster, nouser)"),
              std::string::npos)
        << message("");
    EXPECT_NE(message("nouser").find("names the user 'ghost', which is not defined"),
              std::string::npos);
    EXPECT_NE(message("nocluster").find("names the cluster 'ghost', which is not defined"),
              std::string::npos);
    r.kubeconfig = dir / "absent";
    EXPECT_NE(message("").find("does not exist"), std::string::npos);
}

TEST_F(Kubeconfig, ExecWithoutInteractiveModeInV1IsRefused) {
    const auto file = write("config", R"(current-context: c
clusters: [{name: k, cluster: {server: https://x}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users:
- name: u
  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: cred}}
)");
    KubeconfigRequest r;
    r.kubeconfig = file;
    EXPECT_THROW(load_access(r), dmc::Error);
}

TEST_F(Kubeconfig, InClusterServiceAccountWhenThereIsNoKubeconfig) {
    write("sa/token", "sa-token\n");
    write("sa/ca.crt", "CA");
    write("sa/namespace", "builds\n");
    KubeconfigRequest r;
    r.home = dir / "nohome";
    r.service_account_dir = dir / "sa";
    EXPECT_FALSE(cluster_configured(r));
    r.service_host = "10.0.0.1";
    r.service_port = "443";
    EXPECT_TRUE(cluster_configured(r));
    const auto a = load_access(r);
    EXPECT_EQ(a.server, "https://10.0.0.1:443");
    EXPECT_EQ(a.ca_file, dir / "sa/ca.crt");
    EXPECT_EQ(a.user.token_file, dir / "sa/token");
    EXPECT_EQ(a.ns, "builds");
    EXPECT_EQ(a.context, "in-cluster");
    r.service_host = "fd00::1";
    EXPECT_EQ(load_access(r).server, "https://[fd00::1]:443");
}

TEST_F(Kubeconfig, NoKubeconfigAtAllSaysWhatToDo) {
    KubeconfigRequest r;
    r.home = dir;
    try {
        load_access(r);
        FAIL() << "no error";
    } catch (const dmc::Error& e) {
        EXPECT_NE(std::string(e.what()).find("--print"), std::string::npos) << e.what();
    }
}

}  // namespace
