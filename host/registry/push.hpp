// Pushing an OCI image layout to a registry (OCI distribution spec): every blob
// checked with HEAD and skipped when present, mounted from another repository
// of the registry when one is known to hold it, else uploaded (one POST and one
// PUT, or chunked PATCHes), several at a time; then the manifests by digest,
// and last the tags, so that a tag never names something incomplete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "registry/auth.hpp"
#include "registry/client.hpp"

namespace dmc::registry {

struct PushOptions {
    std::string registry;               // host[:port][/namespace]
    std::vector<std::string> insecure;  // registries allowed plain HTTP (loopback always is)
    std::string ca_bundle;              // CA file for the registry's TLS certificate
    std::uint64_t chunk_size = 0;       // bytes per PATCH; 0: one PUT per blob
    int parallel = 4;                   // blobs uploaded at once
    int retries = 4;                    // extra attempts after a transient failure
    long backoff_ms = 500;              // first pause; doubles each attempt
    CredentialOptions credentials;
    // Where to remember which repositories hold which blobs, to mount them
    // rather than upload them again. Empty: this process only.
    std::filesystem::path mount_cache;
};

// How a client of options.registry talks to it: TLS, credentials, retries.
ClientOptions client_options(const PushOptions& options, const Registry& registry);

// The chunk size used when a registry refuses a whole blob in one PUT.
inline constexpr std::uint64_t fallback_chunk_size = 16u << 20;

struct PushStats {
    std::size_t blobs = 0, present = 0, mounted = 0, uploaded = 0, chunked = 0;
    std::uint64_t bytes = 0;    // uploaded
    std::size_t manifests = 0;  // pushed (not already there)
    std::uint64_t requests = 0;
    // The manifests with a subject whose push the registry answered with OCI-Subject:
    // it lists them in its referrers API, and no referrers tag is needed. (One the
    // registry had already was not pushed, so is not here.)
    std::set<std::string> subject_processed;
};

// Pushes what `layout_ref` names in the layout's index.json (an image index or
// a manifest) to <registry>/<namespace>/<name> under every tag, and returns
// "registry/repository:tag@sha256:..." for each tag. Throws Error with one line
// saying what failed and what to do.
std::vector<std::string> push_layout(const PushOptions& options,
                                     const std::filesystem::path& layout,
                                     const std::string& layout_ref, const std::string& name,
                                     const std::vector<std::string>& tags,
                                     PushStats* stats = nullptr);

// Several refs of one layout to one repository in one session: every blob and
// manifest once, then each ref's tags (none: the ref is pushed by digest only).
struct PushTarget {
    std::string layout_ref;
    std::vector<std::string> tags;
};
std::vector<std::string> push_layout(const PushOptions& options,
                                     const std::filesystem::path& layout, const std::string& name,
                                     const std::vector<PushTarget>& targets,
                                     PushStats* stats = nullptr);

// `tag` and the tag made of the image's version (the config label
// org.opencontainers.image.version of its first manifest), when there is one.
std::vector<std::string> default_tags(const std::filesystem::path& layout,
                                      const std::string& layout_ref, const std::string& tag);

}  // namespace dmc::registry
