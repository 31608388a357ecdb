// The Kubernetes API over libcurl: TLS to the cluster's CA (data or file, a
// server name of its own, or none when the kubeconfig says so), every credential
// type of a kubeconfig, the shared retry rule for transient failures, and the
// server's Status turned into one line that says what to do.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "kube/exec_credential.hpp"
#include "kube/kubeconfig.hpp"
#include "net/curl.hpp"
#include "net/retry.hpp"

namespace dmc::kube {

struct ApiResponse {
    int curl_code = 0;  // CURLcode: 0 when an HTTP answer arrived
    std::string error;  // curl's message otherwise
    long status = 0;
    std::string body;
    std::string retry_after;  // the Retry-After header, if any
};

class ApiClient {
  public:
    ApiClient(ClusterAccess access, net::RetryPolicy retry);
    ApiClient(const ApiClient&) = delete;
    ApiClient& operator=(const ApiClient&) = delete;

    // Any HTTP answer is returned, after the retries of transient ones; a request
    // that got none throws Error naming the server.
    ApiResponse request(const std::string& method, const std::string& path,
                        const std::string& body = "", const std::string& content_type = "");

    const ClusterAccess& access() const { return access_; }

  private:
    ApiResponse attempt(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& content_type);
    ClusterAccess access_;
    net::RetryPolicy retry_;
    std::unique_ptr<ExecPlugin> exec_;
    net::EasyHandle curl_;  // one handle: its connection is kept between requests
};

// The server's Status message of a failed request, else "HTTP <status>".
std::string status_message(const ApiResponse& response);
// The reason of a Status ("AlreadyExists", "NotFound", "Conflict"), or "".
std::string status_reason(const ApiResponse& response);

// One line for a failed request: what was done, the server's words and what to do.
// `what` is "applying Deployment nginx in namespace web".
std::string describe_failure(const ApiResponse& response, const std::string& what,
                             const ClusterAccess& access, const std::string& ns);

}  // namespace dmc::kube
