#include <gtest/gtest.h>

#include "kube/client.hpp"
#include "util/error.hpp"

using namespace dmc::kube;

namespace {

ApiResponse status(long code, const std::string& reason, const std::string& message,
                   const std::string& details = "") {
    ApiResponse r;
    r.status = code;
    r.body = R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":")" + message +
             R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) +
             (details.empty() ? "" : R"(,"details":)" + details) + "}";
    return r;
}

ClusterAccess access() {
    ClusterAccess a;
    a.context = "prod";
    a.source = "/home/u/.kube/config";
    return a;
}

TEST(KubeClient, FailuresSayWhatToDo) {
    auto line = [](const ApiResponse& r) {
        return describe_failure(r, "applying Deployment nginx", access(), "web");
    };
    EXPECT_EQ(line(status(401, "Unauthorized", "Unauthorized")),
              "applying Deployment nginx: 401 Unauthorized; the credentials of context prod "
              "(/home/u/.kube/config) were refused: renew them or choose another context with "
              "--context");
    EXPECT_NE(line(status(404, "NotFound", "namespaces \\\"web\\\" not found"))
                  .find("kubectl create namespace web"),
              std::string::npos);
    EXPECT_NE(line(status(403, "Forbidden", "forbidden")).find("Role"), std::string::npos);
    EXPECT_NE(
        line(status(409, "Conflict", "Apply failed with 1 conflict")).find("--force-conflicts"),
        std::string::npos);
    const auto invalid =
        line(status(422, "Invalid", "Deployment.apps \\\"nginx\\\" is invalid",
                    R"({"causes":[{"field":"spec.replicas","message":"must be >= 0"}]})"));
    EXPECT_NE(invalid.find("(spec.replicas: must be >= 0)"), std::string::npos) << invalid;
    EXPECT_NE(line(status(503, "ServiceUnavailable", "busy")).find("try again later"),
              std::string::npos);
    ApiResponse text;
    text.status = 502;
    text.body = "<html>bad gateway</html>";
    EXPECT_EQ(status_message(text), "HTTP 502");
    EXPECT_EQ(status_reason(status(409, "AlreadyExists", "x")), "AlreadyExists");
}

TEST(KubeClient, PlainHttpCarriesNoCredentialsButToLoopback) {
    ClusterAccess a = access();
    a.server = "http://cluster.example:8080";
    a.user.token = "t";
    EXPECT_THROW(ApiClient(a, {}), dmc::Error);
    a.server = "http://127.0.0.1:8080";
    EXPECT_NO_THROW(ApiClient(a, {}));
    a.server = "http://127.0.0.1.attacker.example:8080";  // a name, not a loopback address
    EXPECT_THROW(ApiClient(a, {}), dmc::Error);
    a.server = "ftp://x";
    EXPECT_THROW(ApiClient(a, {}), dmc::Error);
    // kubectl refuses a CA together with insecure-skip-tls-verify; so does dmc.
    a.server = "https://cluster.example";
    a.ca_data = "PEM";
    a.insecure_skip_tls_verify = true;
    EXPECT_THROW(ApiClient(a, {}), dmc::Error);
}

}  // namespace
