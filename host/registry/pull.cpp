#include "registry/pull.hpp"

#include "image/oci.hpp"
#include "registry/client.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

namespace dmc::registry {

Reader::Reader(const PushOptions& options, const std::string& name) {
    const Registry registry = parse_registry(options.registry);
    repo_ = repository(registry, name);
    where_ = registry.host + "/" + repo_;
    client_ = std::make_unique<Client>(client_options(options, registry));
    client_->ping();
}

Reader::~Reader() = default;

std::optional<Manifest> Reader::manifest(const std::string& reference) {
    Request r;
    r.url = "/v2/" + repo_ + "/manifests/" + reference;
    r.headers = {manifest_accept};
    r.scopes = {"repository:" + repo_ + ":pull"};
    const Reply reply = client_->send(r);
    if (reply.status == 404) return std::nullopt;
    if (!reply.ok())
        throw Error("cannot read " + where_ + ":" + reference + ": " + describe(reply));
    Manifest m;
    m.bytes = reply.body;
    m.digest = "sha256:" + sha256_hex(m.bytes);
    m.media_type = reply.header("content-type");
    if (reference.starts_with("sha256:") && reference != m.digest)
        throw Error("registry " + where_ + " answered " + reference + " with other bytes (" +
                    m.digest + ")");
    return m;
}

bool Reader::has_referrers_api(const std::string& digest) {
    Request r;
    r.url = "/v2/" + repo_ + "/referrers/" + digest;
    r.headers = {"Accept: " + std::string(image::media_type_image_index)};
    r.scopes = {"repository:" + repo_ + ":pull"};
    const Reply reply = client_->send(r);
    // 404 is the spec's "no referrers API"; other registries without it refuse the
    // route in other words (400, 405). Refused access or a failure is an error.
    if (reply.status >= 400 && reply.status < 500 && reply.status != 401 && reply.status != 403 &&
        reply.status != 429)
        return false;
    if (!reply.ok())
        throw Error("cannot ask " + where_ + " for the referrers of " + digest + ": " +
                    describe(reply));
    return image::is_index_media_type(
        reply.header("content-type").substr(0, reply.header("content-type").find(';')));
}

std::string Reader::blob(const std::string& digest, std::uint64_t max_bytes) {
    Request r;
    r.url = "/v2/" + repo_ + "/blobs/" + digest;
    r.scopes = {"repository:" + repo_ + ":pull"};
    const Reply reply = client_->send(r);
    if (!reply.ok())
        throw Error("cannot read " + digest + " from " + where_ + ": " + describe(reply));
    if (reply.body.size() > max_bytes)
        throw Error("blob " + digest + " of " + where_ + " is larger than " +
                    std::to_string(max_bytes) + " bytes");
    if ("sha256:" + sha256_hex(reply.body) != digest)
        throw Error("registry " + where_ + " answered " + digest + " with other bytes");
    return reply.body;
}

}  // namespace dmc::registry
