// Reading from a registry (OCI distribution spec, "pull"): manifests by tag or
// digest and blobs, each checked against its digest, with the same TLS, credentials
// and retries as a push. For what checks pushed images (verify).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "registry/push.hpp"

namespace dmc::registry {

class Client;

struct Manifest {
    std::string digest, media_type, bytes;
};

class Reader {
  public:
    // The repository of `name` on options.registry; pings it.
    Reader(const PushOptions& options, const std::string& name);
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    // A manifest or index by tag or digest; nullopt when the registry has none.
    // Throws Error when it cannot answer, or answers with other bytes than a digest names.
    std::optional<Manifest> manifest(const std::string& reference);
    // Whether the registry has the referrers API: GET /v2/<name>/referrers/<digest>
    // answers 200 with an image index (a 404, or another refusal of the route, says
    // it has not).
    bool has_referrers_api(const std::string& digest);
    // A blob, checked against its digest; at most max_bytes.
    std::string blob(const std::string& digest, std::uint64_t max_bytes = 64u << 20);
    // "host/repository"
    const std::string& where() const { return where_; }

  private:
    std::unique_ptr<Client> client_;
    std::string repo_, where_;
};

}  // namespace dmc::registry
