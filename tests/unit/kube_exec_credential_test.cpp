#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "kube/exec_credential.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;
using namespace dmc::kube;

namespace {

constexpr const char* kV1 = "client.authentication.k8s.io/v1";

TEST(KubeExecCredential, ParsesTokenCertificateAndExpiry) {
    auto c = parse_exec_credential(
        R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",
            "status":{"token":"t","expirationTimestamp":"2026-12-01T10:00:00Z"}})",
        kV1);
    EXPECT_EQ(c.token, "t");
    ASSERT_TRUE(c.expires.has_value());
    EXPECT_EQ(std::chrono::system_clock::to_time_t(*c.expires), 1796119200);
    c = parse_exec_credential(
        R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",
            "status":{"clientCertificateData":"C","clientKeyData":"K"}})",
        kV1);
    EXPECT_EQ(c.client_certificate_data, "C");
    EXPECT_FALSE(c.expires.has_value());
}

TEST(KubeExecCredential, RefusesWhatIsNotAnExecCredential) {
    EXPECT_THROW(parse_exec_credential("not json", kV1), dmc::Error);
    EXPECT_THROW(parse_exec_credential(
                     R"({"kind":"Other","apiVersion":"client.authentication.k8s.io/v1"})", kV1),
                 dmc::Error);
    EXPECT_THROW(
        parse_exec_credential(
            R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"t"}})",
            kV1),
        dmc::Error);
    EXPECT_THROW(
        parse_exec_credential(
            R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{}})",
            kV1),
        dmc::Error);
    EXPECT_THROW(
        parse_exec_credential(
            R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"C"}})",
            kV1),
        dmc::Error);
    EXPECT_THROW(
        parse_exec_credential(
            R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t","expirationTimestamp":"tomorrow"}})",
            kV1),
        dmc::Error);
}

TEST(KubeExecCredential, Rfc3339WithFractionsAndOffsets) {
    const auto base = parse_rfc3339("2026-12-01T10:00:00Z");
    ASSERT_TRUE(base);
    EXPECT_EQ(parse_rfc3339("2026-12-01T10:00:00.123456Z"), base);
    EXPECT_EQ(parse_rfc3339("2026-12-01T11:00:00+01:00"), base);
    // Out of what the clock holds: early years are long ago (not an overflow, as fuzzing found).
    EXPECT_EQ(parse_rfc3339("1013-12-01T18:00:00Z")->time_since_epoch().count(), 0);
    EXPECT_GT(*parse_rfc3339("2999-01-01T00:00:00Z"), *base);
    EXPECT_EQ(parse_rfc3339("2026-12-01T09:30:00-00:30"), base);
    EXPECT_FALSE(parse_rfc3339("2026-12-01 10:00:00"));
    EXPECT_FALSE(parse_rfc3339("2026-12-01T10:00:00"));
    EXPECT_FALSE(parse_rfc3339("2026-12-01T10:00:00Zjunk"));
}

// A plugin that counts its runs and answers with the expiry it is given.
fs::path plugin(const fs::path& dir, const std::string& expiry) {
    fs::create_directories(dir);
    const fs::path script = dir / "credential";
    std::ofstream(script)
        << "#!/bin/sh\n"
           "echo run >> '" +
               (dir / "runs").string() +
               "'\n"
               "printf '%s' \"$KUBERNETES_EXEC_INFO\" > '" +
               (dir / "info").string() +
               "'\n"
               "echo "
               "'{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
               "\"status\":{\"token\":\"tok-'$1'\"" +
               (expiry.empty() ? "" : ",\"expirationTimestamp\":\"" + expiry + "\"") + "}}'\n";
    ::chmod(script.c_str(), 0755);
    return script;
}

int runs(const fs::path& dir) {
    std::ifstream in(dir / "runs");
    int n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
}

TEST(KubeExecCredential, PluginRunsOnceUntilItsCredentialExpires) {
    const fs::path dir = fs::temp_directory_path() / ("dmc-exec-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    ExecConfig config;
    config.api_version = kV1;
    config.command = plugin(dir / "fresh", "2999-01-01T00:00:00Z").string();
    config.args = {"A"};
    config.interactive_mode = "Never";
    config.provide_cluster_info = true;
    ClusterAccess cluster;
    cluster.server = "https://127.0.0.1:6443";
    ExecPlugin fresh(config, cluster);
    EXPECT_EQ(fresh.credential().token, "tok-A");
    EXPECT_EQ(fresh.credential().token, "tok-A");
    EXPECT_EQ(runs(dir / "fresh"), 1);
    fresh.invalidate();  // a 401
    fresh.credential();
    EXPECT_EQ(runs(dir / "fresh"), 2);
    std::ifstream info(dir / "fresh" / "info");
    const std::string request((std::istreambuf_iterator<char>(info)), {});
    EXPECT_NE(request.find(R"("interactive":false)"), std::string::npos) << request;
    EXPECT_NE(request.find(R"("server":"https://127.0.0.1:6443")"), std::string::npos) << request;

    config.command = plugin(dir / "stale", "2000-01-01T00:00:00Z").string();
    ExecPlugin stale(config, cluster);
    stale.credential();
    stale.credential();
    EXPECT_EQ(runs(dir / "stale"), 2);  // expired: asked again each time

    config.interactive_mode = "Always";  // the test's stdin is no terminal
    if (!::isatty(0)) {
        EXPECT_THROW(ExecPlugin(config, cluster).credential(), dmc::Error);
    }
    config.command = (dir / "absent").string();
    config.interactive_mode = "Never";
    EXPECT_THROW(ExecPlugin(config, cluster).credential(), dmc::Error);
    fs::remove_all(dir);
}

}  // namespace
