#include "registry/push.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "image/layout_reader.hpp"
#include "image/oci.hpp"
#include "log/log.hpp"
#include "registry/client.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::registry {
namespace {

using Blob = image::LayoutBlob;
using Document = image::LayoutDocument;

// A thrown upload session that is worth starting over (the registry lost it,
// or what it holds does not match).
struct SessionLost : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string with_query(const std::string& url, const std::string& query) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

class Pusher {
  public:
    Pusher(Client& client, std::string repo, const PushOptions& options,
           std::map<std::string, std::vector<std::string>> sources)
        : client_(client), repo_(std::move(repo)), options_(options), sources_(std::move(sources)) {
        scope_ = "repository:" + repo_ + ":pull,push";
    }

    void blob(const Blob& b) {
        for (int attempt = 0;; ++attempt) {
            try {
                blob_once(b);
                return;
            } catch (const SessionLost& e) {
                if (attempt >= 2)
                    throw Error("cannot upload " + b.digest + " to " + where() + ": " + e.what() +
                                " (after " + std::to_string(attempt + 1) + " uploads)");
                log_line(log::Level::info, "uploading " + b.digest + " again: " + e.what());
            }
        }
    }

    // Pushes a manifest or index by digest unless the registry has it. The answer to
    // the push of one with a subject says whether the registry took the subject (the
    // header OCI-Subject, which a registry with the referrers API sends).
    void document(const Document& d) {
        const std::string path = "/v2/" + repo_ + "/manifests/" + d.digest;
        Reply head = send("HEAD", path, {manifest_accept});
        if (head.status == 200) return;
        if (head.status != 404) fail("cannot check manifest " + d.digest, head);
        const Reply put = put_document(d, path);
        const json doc = json::parse(d.bytes, nullptr, false);
        if (doc.is_object() && doc.contains("subject") && doc["subject"].is_object() &&
            put.header("oci-subject") == doc["subject"].value("digest", ""))
            subject_processed.insert(d.digest);
        ++stats.manifests;
    }

    void tag(const Document& d, const std::string& tag) {
        const std::string path = "/v2/" + repo_ + "/manifests/" + tag;
        Reply head = send("HEAD", path, {manifest_accept});
        if (head.status == 200 && head.header("docker-content-digest") == d.digest) return;
        put_document(d, path);
    }

    struct Counters {
        std::atomic<std::size_t> present{0}, mounted{0}, uploaded{0}, chunked{0}, manifests{0};
        std::atomic<std::uint64_t> bytes{0};
    } stats;
    std::set<std::string> subject_processed;  // documents are pushed one at a time

  private:
    std::string where() const { return client_.registry().host + "/" + repo_; }

    Reply send(const std::string& method, const std::string& url,
               std::vector<std::string> headers = {}, std::optional<Body> body = std::nullopt,
               std::vector<std::string> extra_scopes = {}) {
        Request r;
        r.method = method;
        r.url = url;
        r.headers = std::move(headers);
        r.body = std::move(body);
        r.scopes = {scope_};
        for (auto& s : extra_scopes) r.scopes.push_back(std::move(s));
        return client_.send(r);
    }

    [[noreturn]] void fail(const std::string& what, const Reply& reply) const {
        std::string why = describe(reply);
        if (transient(reply))
            why += " (gave up after " + std::to_string(options_.retries + 1) + " attempts)";
        if (reply.status == 403) why += "; the account may not push to " + repo_;
        throw Error(what + " in " + where() + ": " + why);
    }

    Reply put_document(const Document& d, const std::string& path) {
        Reply put = send("PUT", path, {"Content-Type: " + d.media_type}, Body{d.bytes});
        if (put.status != 201 && put.status != 200) fail("cannot push manifest " + d.digest, put);
        const std::string got = put.header("docker-content-digest");
        if (!got.empty() && got != d.digest)
            throw Error("registry " + where() + " stored manifest " + d.digest + " as " + got +
                        "; it rewrites manifests, which dmc cannot push to");
        return put;
    }

    // A repository of this registry that holds the blob, other than ours.
    std::string mount_source(const std::string& digest) const {
        auto it = sources_.find(digest);
        if (it == sources_.end()) return "";
        const std::string prefix = client_.registry().host + "/";
        for (const auto& s : it->second)
            if (s.starts_with(prefix) && s.substr(prefix.size()) != repo_)
                return s.substr(prefix.size());
        return "";
    }

    std::string start_upload(std::uint64_t& min_chunk) {
        Reply post = send("POST", "/v2/" + repo_ + "/blobs/uploads/");
        if (post.status != 202) fail("cannot start an upload", post);
        return upload_location(post, min_chunk);
    }

    std::string upload_location(const Reply& reply, std::uint64_t& min_chunk) {
        const std::string location = reply.header("location");
        if (location.empty())
            throw Error("registry " + where() + " started an upload without a Location");
        const std::string min = reply.header("oci-chunk-min-length");
        if (!min.empty() && min.find_first_not_of("0123456789") == std::string::npos &&
            min.size() < 12)
            min_chunk = std::stoull(min);
        return resolve_url(reply.url, location);
    }

    void check_session(const Reply& reply, const std::string& what) {
        // The upload is gone or holds something else: start over.
        if (reply.curl_code == 0 &&
            (reply.status == 404 || reply.status == 416 ||
             (reply.status == 400 && reply.body.find("DIGEST_INVALID") != std::string::npos) ||
             (reply.status == 400 && reply.body.find("BLOB_UPLOAD_INVALID") != std::string::npos)))
            throw SessionLost(what + ": " + describe(reply));
        fail(what, reply);
    }

    void blob_once(const Blob& b) {
        Reply head = send("HEAD", "/v2/" + repo_ + "/blobs/" + b.digest);
        if (head.status == 200) {
            ++stats.present;
            return;
        }
        if (head.status != 404) fail("cannot check blob " + b.digest, head);

        std::uint64_t min_chunk = 0;
        std::string location;
        if (const std::string from = mount_source(b.digest); !from.empty()) {
            Reply mount = send("POST",
                               "/v2/" + repo_ + "/blobs/uploads/?mount=" + url_encode(b.digest) +
                                   "&from=" + url_encode(from),
                               {}, std::nullopt, {"repository:" + from + ":pull"});
            if (mount.status == 201) {
                log_line(log::Level::info, "mounted " + b.digest + " from " + from);
                ++stats.mounted;
                return;
            }
            // 202: the registry would not mount but started an upload instead.
            if (mount.status == 202)
                location = upload_location(mount, min_chunk);
            else
                log_line(log::Level::detail,
                         "cannot mount " + b.digest + " from " + from + ": " + describe(mount));
        }
        if (location.empty()) location = start_upload(min_chunk);

        std::uint64_t chunk = options_.chunk_size;
        if (chunk == 0) {
            Reply put =
                send("PUT", with_query(location, "digest=" + url_encode(b.digest)),
                     {"Content-Type: application/octet-stream"}, Body{{}, b.path, 0, b.size});
            if (put.status == 201) return uploaded(b, put, false);
            if (put.status != 413) check_session(put, "cannot upload " + b.digest);
            // Too large for one request: chunks, in a fresh session.
            log_line(log::Level::info, "registry " + where() + " refuses " + b.digest +
                                           " in one request; "
                                           "uploading it in chunks");
            chunk = fallback_chunk_size;
            location = start_upload(min_chunk);
        }
        chunk = std::max(chunk, min_chunk);
        for (std::uint64_t offset = 0; offset < b.size;) {
            const std::uint64_t n = std::min(chunk, b.size - offset);
            Reply patch = send(
                "PATCH", location,
                {"Content-Type: application/octet-stream",
                 "Content-Range: " + std::to_string(offset) + "-" + std::to_string(offset + n - 1)},
                Body{{}, b.path, offset, n});
            if (patch.status != 202) check_session(patch, "cannot upload a chunk of " + b.digest);
            offset += n;
            const std::string range = patch.header("range");
            const auto dash = range.find('-');
            if (dash != std::string::npos &&
                range.find_first_not_of("0123456789", dash + 1) == std::string::npos &&
                dash + 1 < range.size() && std::stoull(range.substr(dash + 1)) + 1 != offset)
                throw SessionLost("the registry holds " + range + " of " + b.digest + ", not 0-" +
                                  std::to_string(offset - 1));
            if (const std::string next = patch.header("location"); !next.empty())
                location = resolve_url(patch.url, next);
        }
        Reply put = send("PUT", with_query(location, "digest=" + url_encode(b.digest)));
        if (put.status != 201) check_session(put, "cannot finish the upload of " + b.digest);
        uploaded(b, put, true);
    }

    void uploaded(const Blob& b, const Reply& put, bool chunked) {
        const std::string got = put.header("docker-content-digest");
        if (!got.empty() && got != b.digest)
            throw Error("registry " + where() + " stored " + b.digest + " as " + got);
        ++stats.uploaded;
        if (chunked) ++stats.chunked;
        stats.bytes += b.size;
    }

    Client& client_;
    std::string repo_;
    std::string scope_;
    const PushOptions& options_;
    std::map<std::string, std::vector<std::string>> sources_;
};

// digest -> ["host/repository", ...], most recent first.
using Sources = std::map<std::string, std::vector<std::string>>;

Sources load_sources(const fs::path& file) {
    Sources out;
    std::error_code ec;
    if (file.empty() || !fs::is_regular_file(file, ec)) return out;
    try {
        const auto j = json::parse(read_file(file));
        for (const auto& [digest, repos] : j.items())
            for (const auto& r : repos)
                if (r.is_string()) out[digest].push_back(r.get<std::string>());
    } catch (const std::exception& e) {
        log_line(log::Level::detail, "ignoring the mount cache " + file.string() + ": " + e.what());
    }
    return out;
}

void save_sources(const fs::path& file, Sources sources, const std::vector<Blob>& blobs,
                  const std::string& where) {
    if (file.empty()) return;
    for (const auto& b : blobs) {
        auto& list = sources[b.digest];
        list.erase(std::remove(list.begin(), list.end(), where), list.end());
        list.insert(list.begin(), where);
        if (list.size() > 4) list.resize(4);
    }
    // Hints only: a stale one costs a failed mount, so the file is kept small.
    while (sources.size() > 4096) sources.erase(sources.begin());
    json j = json::object();
    for (const auto& [digest, repos] : sources) j[digest] = repos;
    try {
        fs::create_directories(file.parent_path());
        write_file_atomic(file, j.dump());
    } catch (const std::exception& e) {
        log_line(log::Level::detail,
                 "cannot write the mount cache " + file.string() + ": " + e.what());
    }
}

}  // namespace

ClientOptions client_options(const PushOptions& options, const Registry& registry) {
    ClientOptions co;
    co.registry = registry;
    co.insecure = options.insecure;
    co.ca_bundle = options.ca_bundle;
    co.retry.retries = options.retries;
    co.retry.backoff_ms = options.backoff_ms;
    co.credentials = find_credentials(options.credentials, registry);
    return co;
}

std::vector<std::string> default_tags(const fs::path& layout, const std::string& layout_ref,
                                      const std::string& tag) {
    std::vector<std::string> tags{tag};
    const std::string version_tag =
        tag_of_version(image::config_label(layout, layout_ref, "org.opencontainers.image.version"));
    if (!version_tag.empty() && valid_tag(version_tag) && version_tag != tag)
        tags.push_back(version_tag);
    return tags;
}

std::vector<std::string> push_layout(const PushOptions& options, const fs::path& layout,
                                     const std::string& layout_ref, const std::string& name,
                                     const std::vector<std::string>& tags, PushStats* stats) {
    if (tags.empty()) throw UsageError("nothing to push " + name + " as: no tag");
    return push_layout(options, layout, name, {PushTarget{layout_ref, tags}}, stats);
}

std::vector<std::string> push_layout(const PushOptions& options, const fs::path& layout,
                                     const std::string& name,
                                     const std::vector<PushTarget>& targets, PushStats* stats) {
    const auto started = std::chrono::steady_clock::now();
    const Registry registry = parse_registry(options.registry);
    const std::string repo = repository(registry, name);
    for (const auto& target : targets) {
        for (const auto& t : target.tags)
            if (!valid_tag(t))
                throw UsageError("'" + t +
                                 "' is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})");
    }

    // What the refs reach, each blob and document once, children before parents.
    image::LayoutContent content;
    std::vector<Document> roots;
    std::set<std::string> seen;
    for (const auto& target : targets) {
        const image::LayoutContent one = image::read_content(layout, target.layout_ref);
        for (const auto& b : one.blobs)
            if (seen.insert(b.digest).second) content.blobs.push_back(b);
        for (const auto& d : one.documents)
            if (seen.insert(d.digest).second) content.documents.push_back(d);
        roots.push_back(one.documents.back());
    }

    Client client(client_options(options, registry));
    client.ping();

    Sources sources = load_sources(options.mount_cache);
    Pusher pusher(client, repo, options, sources);

    // Blobs, biggest first so that the long uploads overlap.
    std::vector<Blob> blobs = content.blobs;
    std::stable_sort(blobs.begin(), blobs.end(),
                     [](const Blob& a, const Blob& b) { return a.size > b.size; });
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto worker = [&] {
        while (!stop) {
            const std::size_t i = next++;
            if (i >= blobs.size()) return;
            try {
                pusher.blob(blobs[i]);
            } catch (...) {
                std::lock_guard lock(failure_mutex);
                if (!failure) failure = std::current_exception();
                stop = true;
            }
        }
    };
    const std::size_t workers = std::min<std::size_t>(std::max(1, options.parallel),
                                                      std::max<std::size_t>(1, blobs.size()));
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers; ++i) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);

    // Then the manifests, children first, by digest; the tags last.
    for (const auto& d : content.documents) pusher.document(d);
    std::vector<std::string> refs;
    for (std::size_t i = 0; i < targets.size(); ++i)
        for (const auto& t : targets[i].tags) {
            pusher.tag(roots[i], t);
            refs.push_back(registry.host + "/" + repo + ":" + t + "@" + roots[i].digest);
        }
    save_sources(options.mount_cache, std::move(sources), content.blobs,
                 registry.host + "/" + repo);

    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    auto& s = pusher.stats;
    char line[256];
    std::snprintf(line, sizeof line,
                  "%zu blobs: %zu uploaded (%.1f MB%s), %zu mounted, %zu already there; "
                  "%zu manifests pushed; %llu requests in %.2f s",
                  blobs.size(), s.uploaded.load(), static_cast<double>(s.bytes.load()) / 1e6,
                  s.chunked ? ", chunked" : "", s.mounted.load(), s.present.load(),
                  s.manifests.load(), static_cast<unsigned long long>(client.requests()), secs);
    log::notice("pushed " + registry.host + "/" + repo + ": " + line);
    if (stats) {
        stats->blobs = blobs.size();
        stats->present = s.present;
        stats->mounted = s.mounted;
        stats->uploaded = s.uploaded;
        stats->chunked = s.chunked;
        stats->bytes = s.bytes;
        stats->manifests = s.manifests;
        stats->requests = client.requests();
        stats->subject_processed = pusher.subject_processed;
    }
    return refs;
}

}  // namespace dmc::registry
