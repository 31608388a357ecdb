// OCI image layout writer (image-spec v1.1: image-layout.md, config.md,
// manifest.md, image-index.md, descriptor.md).
//
// Every JSON document is canonical: keys sorted, no whitespace, UTF-8 (no
// \u escapes), so the same inputs give the same bytes and digests. Blobs are
// content-addressed and written atomically; one that exists is not rewritten.
//
// A layout directory holds any number of images; index.json names the ones to
// keep (by "org.opencontainers.image.ref.name", e.g. "latest"). Writing
// index.json replaces it atomically and then, by default, removes the blobs no
// longer reachable from it, so that rebuilding a template does not pile up
// old layers. That clean-up assumes one writer per layout at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "image/layer.hpp"

namespace dmc::image {

inline constexpr std::string_view media_type_image_manifest =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view media_type_image_index =
    "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view media_type_image_config =
    "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view ref_name_annotation = "org.opencontainers.image.ref.name";
// The pre-defined annotation keys of annotations.md that describe an image (besides
// ref.name), which dmc puts on its manifests and indexes from the config's labels.
inline constexpr std::string_view image_annotation_keys[] = {
    "org.opencontainers.image.created",     "org.opencontainers.image.authors",
    "org.opencontainers.image.url",         "org.opencontainers.image.documentation",
    "org.opencontainers.image.source",      "org.opencontainers.image.version",
    "org.opencontainers.image.revision",    "org.opencontainers.image.vendor",
    "org.opencontainers.image.licenses",    "org.opencontainers.image.title",
    "org.opencontainers.image.description", "org.opencontainers.image.base.name"};

// Manifests and indexes, OCI's or Docker's (registries answer with either).
bool is_manifest_media_type(std::string_view media_type);
bool is_index_media_type(std::string_view media_type);

struct Platform {
    std::string architecture;  // GOARCH name
    std::string os = "linux";
    std::string variant;  // empty: none
};

struct Descriptor {
    std::string media_type;
    std::string digest;  // "sha256:<hex>"
    std::uint64_t size = 0;
    std::optional<Platform> platform;                // written when set
    std::map<std::string, std::string> annotations;  // written when not empty
    std::string artifact_type;                       // written when set (referrers)
};

// A descriptor as JSON and back, as descriptor.md writes it; the reader throws
// Error when a field is missing or of the wrong type.
nlohmann::json descriptor_to_json(const Descriptor& descriptor);
Descriptor descriptor_from_json(const nlohmann::json& document);

// The entries of an image index's "manifests", read from its bytes; entries that
// are not valid descriptors are left out (counted in left_out), and bytes that are
// no index give none.
std::vector<Descriptor> index_entries(std::string_view index_bytes,
                                      std::size_t* left_out = nullptr);
// A descriptor's architecture, or "?" when it names no platform.
std::string architecture_of(const Descriptor& descriptor);

// The image configuration. Empty strings, lists, sets and maps are left out of
// the JSON, so it holds exactly the fields that were set.
struct ImageConfig {
    // GOARCH names: amd64, arm64, arm, 386, ppc64le, s390x, riscv64, mips64le.
    std::string architecture;
    std::string variant;  // arm: "v5", "v6", "v7", "v8"; arm64: "v8"; others: none
    std::string os = "linux";
    std::int64_t created = 0;  // seconds since the epoch (SOURCE_DATE_EPOCH)

    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::vector<std::string> env;  // "KEY=value", in this order
    std::string user;
    std::string working_dir;              // absolute
    std::set<std::string> exposed_ports;  // "80/tcp", "53/udp", "8080" (= tcp)
    std::set<std::string> volumes;        // absolute paths
    std::map<std::string, std::string> labels;
    std::string stop_signal;  // "SIGQUIT", "15"

    std::string created_by = "dmc";  // history entry of each layer

    Platform platform() const;
};

// "1970-01-01T00:00:00Z".
std::string rfc3339_utc(std::int64_t epoch_seconds);

// The canonical JSON documents.
std::string config_json(const ImageConfig& config, const std::vector<std::string>& diff_ids);
std::string manifest_json(const Descriptor& config, const std::vector<Descriptor>& layers,
                          const std::map<std::string, std::string>& annotations = {});
std::string index_json(const std::vector<Descriptor>& manifests,
                       const std::map<std::string, std::string>& annotations = {});
// An artifact (image-spec 1.1, "artifacts guidance"): an image manifest with an
// artifactType, the empty config, the artifact's blobs as layers, and the subject
// it is about, which the registry's referrers API (or the referrers tag schema's
// index, sha256-<hex>) lists it under.
inline constexpr std::string_view media_type_empty = "application/vnd.oci.empty.v1+json";
// Its annotations are what a registry's referrers API lists with it.
std::string artifact_manifest_json(std::string_view artifact_type, const Descriptor& empty_config,
                                   const std::vector<Descriptor>& blobs, const Descriptor& subject,
                                   const std::map<std::string, std::string>& annotations = {});
// "sha256-<hex>": the tag of the referrers index of `digest` (distribution-spec 1.1).
std::string referrers_tag(std::string_view digest);

// Creates the layout's directories and its oci-layout file. The writers below
// create what they need themselves; this is for an explicit empty layout.
void init_layout(const std::filesystem::path& layout);

// <layout>/blobs/sha256/<hex>; refuses anything but a "sha256:<64 hex>" digest.
std::filesystem::path blob_path(const std::filesystem::path& layout, std::string_view digest);

// Stores `content` as a blob and returns its descriptor.
Descriptor write_blob(const std::filesystem::path& layout, std::string_view media_type,
                      std::string_view content);

// Puts a layer written by write_layer() into the layout: hard-linked when on
// the same filesystem, else copied (and its digest checked). The layer file
// itself is left in place.
Descriptor store_layer(const std::filesystem::path& layout, const LayerInfo& layer);

// Stores the layers, the config and the manifest of one image. Returns the
// manifest's descriptor, with the config's platform.
// The manifest carries the labels of the config that have an annotation key of
// image_annotation_keys as its annotations.
Descriptor write_image(const std::filesystem::path& layout, const ImageConfig& config,
                       const std::vector<LayerInfo>& layers);

// Stores an image index over manifests written by write_image() (one per
// platform; each needs a platform) and returns its descriptor.
Descriptor write_image_index(const std::filesystem::path& layout,
                             const std::vector<Descriptor>& manifests,
                             const std::map<std::string, std::string>& annotations = {});
// The annotations write_image gives a manifest of this config.
std::map<std::string, std::string> image_annotations(const ImageConfig& config);

enum class UnreferencedBlobs { keep, remove };

// Replaces index.json with one descriptor per ref name (e.g. {"latest", d}):
// d is a manifest from write_image() or an index from write_image_index().
// Also writes oci-layout. Ref names: [A-Za-z0-9] runs joined by [-._:@+/].
void write_layout_index(const std::filesystem::path& layout,
                        const std::map<std::string, Descriptor>& refs,
                        UnreferencedBlobs unreferenced = UnreferencedBlobs::remove);

// Deletes the sha256 blobs that index.json does not reach (through indexes,
// manifests, configs, layers and subjects). Returns how many were deleted.
// Temporary files of writers (names starting with '.') are left alone.
std::size_t remove_unreferenced_blobs(const std::filesystem::path& layout);

}  // namespace dmc::image
