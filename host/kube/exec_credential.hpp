// Exec credential plugins as client-go runs them: the ExecCredential request in
// KUBERNETES_EXEC_INFO, stdin and stderr left to the user when it may ask, and
// the answer kept until its expirationTimestamp.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "kube/kubeconfig.hpp"

namespace dmc::kube {

struct ExecCredential {
    std::string token;
    std::string client_certificate_data, client_key_data;  // PEM
    std::optional<std::chrono::system_clock::time_point> expires;
};

// Parses the plugin's answer; throws Error saying what is wrong with it.
ExecCredential parse_exec_credential(const std::string& json, const std::string& api_version);

// "2026-12-01T10:00:00Z" (RFC 3339, fractions and offsets too); nullopt when it is not one.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);

class ExecPlugin {
  public:
    ExecPlugin(ExecConfig config, const ClusterAccess& cluster);
    // The credential, from the cache while it has not expired.
    const ExecCredential& credential();
    // Forgets the cached credential: the server refused it (401).
    void invalidate() { cached_.reset(); }

  private:
    ExecConfig config_;
    std::string server_, ca_data_;
    bool insecure_ = false;
    std::optional<ExecCredential> cached_;
};

}  // namespace dmc::kube
