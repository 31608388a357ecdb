#include "image/oci.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/hashed_file.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::image {

namespace {

constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view docker_manifest_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";

std::string canonical(const json& document) {
    try {
        return document.dump();
    } catch (const json::exception& e) {
        // Strings that are not UTF-8 (a label value, an argument...).
        throw Error(std::string("cannot encode image JSON: ") + e.what());
    }
}

bool is_valid_digest(std::string_view digest) {
    constexpr std::string_view prefix = "sha256:";
    if (digest.substr(0, prefix.size()) != prefix || digest.size() != prefix.size() + 64)
        return false;
    return std::all_of(digest.begin() + prefix.size(), digest.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

void check_ref_name(const std::string& name) {
    const bool shape_ok =
        !name.empty() && is_alnum(name.front()) && is_alnum(name.back()) &&
        std::all_of(name.begin(), name.end(), [](char c) {
            return is_alnum(c) || std::string_view("-._:@+/").find(c) != std::string_view::npos;
        });
    if (!shape_ok) throw Error("invalid image ref name \"" + name + "\"");
}

void check_platform(const std::string& architecture, const std::string& variant) {
    static const std::set<std::string> architectures = {"amd64",   "arm64", "arm",     "386",
                                                        "ppc64le", "s390x", "riscv64", "mips64le"};
    if (!architectures.count(architecture))
        throw Error("unknown image architecture \"" + architecture + "\" (GOARCH names)");
    if (variant.empty()) return;
    const bool variant_ok = (architecture == "arm" && (variant == "v5" || variant == "v6" ||
                                                       variant == "v7" || variant == "v8")) ||
                            (architecture == "arm64" && variant == "v8");
    if (!variant_ok)
        throw Error("variant \"" + variant + "\" does not apply to architecture " + architecture);
}

void check_config(const ImageConfig& config) {
    check_platform(config.architecture, config.variant);
    if (config.os.empty()) throw Error("image os is empty");
    if (config.created < 0) throw Error("image creation time is before 1970");
    for (const std::string& variable : config.env)
        if (variable.find('=') == std::string::npos || variable.front() == '=')
            throw Error("image environment entry \"" + variable + "\" is not KEY=value");
    if (!config.working_dir.empty() && config.working_dir.front() != '/')
        throw Error("image working directory \"" + config.working_dir + "\" is not absolute");
    for (const std::string& volume : config.volumes)
        if (volume.empty() || volume.front() != '/')
            throw Error("image volume \"" + volume + "\" is not an absolute path");
    for (const std::string& port : config.exposed_ports) {
        const std::size_t slash = port.find('/');
        const std::string number = port.substr(0, slash);
        const std::string protocol = slash == std::string::npos ? "tcp" : port.substr(slash + 1);
        const bool number_ok = !number.empty() && number.size() <= 5 &&
                               std::all_of(number.begin(), number.end(),
                                           [](char c) { return c >= '0' && c <= '9'; }) &&
                               std::stoul(number) >= 1 && std::stoul(number) <= 65535;
        if (!number_ok || (protocol != "tcp" && protocol != "udp" && protocol != "sctp"))
            throw Error("image exposed port \"" + port + "\" is not PORT[/tcp|udp|sctp]");
    }
    for (const auto& [key, value] : config.labels)
        if (key.empty()) throw Error("image label with an empty key");
}

json platform_json(const Platform& platform) {
    json document = {{"architecture", platform.architecture}, {"os", platform.os}};
    if (!platform.variant.empty()) document["variant"] = platform.variant;
    return document;
}

json descriptor_json(const Descriptor& descriptor) {
    if (!is_valid_digest(descriptor.digest))
        throw Error("invalid descriptor digest \"" + descriptor.digest + "\"");
    json document = {{"mediaType", descriptor.media_type},
                     {"digest", descriptor.digest},
                     {"size", descriptor.size}};
    if (descriptor.platform) document["platform"] = platform_json(*descriptor.platform);
    if (!descriptor.annotations.empty()) document["annotations"] = descriptor.annotations;
    if (!descriptor.artifact_type.empty()) document["artifactType"] = descriptor.artifact_type;
    return document;
}

// A set of names as the config wants it: {"80/tcp": {}}.
json empty_object_map(const std::set<std::string>& names) {
    json document = json::object();
    for (const std::string& name : names) document[name] = json::object();
    return document;
}

json parse_json_file(const fs::path& path) {
    try {
        return json::parse(read_file(path));
    } catch (const json::exception& e) {
        throw Error("cannot parse " + path.string() + ": " + e.what());
    }
}

// The digests a blob of this media type refers to.
void collect_children(const json& document, std::vector<std::string>& digests,
                      std::vector<std::string>& media_types) {
    auto take = [&](const json& descriptor) {
        if (!descriptor.is_object() || !descriptor.contains("digest") ||
            !descriptor["digest"].is_string())
            return;
        digests.push_back(descriptor["digest"].get<std::string>());
        const auto media_type = descriptor.find("mediaType");
        media_types.push_back(media_type != descriptor.end() && media_type->is_string()
                                  ? media_type->get<std::string>()
                                  : std::string());
    };
    for (const char* list : {"manifests", "layers"})
        if (document.contains(list) && document[list].is_array())
            for (const json& descriptor : document[list]) take(descriptor);
    for (const char* single : {"config", "subject"})
        if (document.contains(single)) take(document[single]);
}

bool is_manifest_or_index(std::string_view media_type) {
    return is_manifest_media_type(media_type) || is_index_media_type(media_type);
}

}  // namespace

bool is_manifest_media_type(std::string_view media_type) {
    return media_type == media_type_image_manifest || media_type == docker_manifest;
}

bool is_index_media_type(std::string_view media_type) {
    return media_type == media_type_image_index || media_type == docker_manifest_list;
}

nlohmann::json descriptor_to_json(const Descriptor& descriptor) {
    return descriptor_json(descriptor);
}

Descriptor descriptor_from_json(const json& j) {
    try {
        Descriptor d;
        d.media_type = j.at("mediaType").get<std::string>();
        d.digest = j.at("digest").get<std::string>();
        if (!j.at("size").is_number_unsigned())
            throw Error("malformed descriptor: size " + j.at("size").dump() +
                        " is not a whole number of bytes");
        d.size = j.at("size").get<std::uint64_t>();
        if (!is_valid_digest(d.digest))
            throw Error("invalid descriptor digest \"" + d.digest + "\"");
        if (j.contains("platform")) {
            const auto& p = j.at("platform");
            d.platform = Platform{p.at("architecture").get<std::string>(),
                                  p.at("os").get<std::string>(), p.value("variant", "")};
        }
        if (j.contains("annotations"))
            d.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
        if (j.contains("artifactType")) d.artifact_type = j.at("artifactType").get<std::string>();
        return d;
    } catch (const json::exception& e) {
        throw Error(std::string("malformed descriptor: ") + e.what());
    }
}

std::vector<Descriptor> index_entries(std::string_view index_bytes, std::size_t* left_out) {
    const json doc = json::parse(index_bytes, nullptr, false);
    std::vector<Descriptor> out;
    if (left_out) *left_out = 0;
    if (!doc.is_object() || !doc.contains("manifests") || !doc["manifests"].is_array()) return out;
    for (const auto& m : doc["manifests"]) {
        try {
            out.push_back(descriptor_from_json(m));
        } catch (const Error&) {
            if (left_out) ++*left_out;
        }
    }
    return out;
}

std::string architecture_of(const Descriptor& descriptor) {
    return descriptor.platform ? descriptor.platform->architecture : "?";
}

Platform ImageConfig::platform() const { return Platform{architecture, os, variant}; }

std::string rfc3339_utc(std::int64_t epoch_seconds) {
    const auto seconds = static_cast<std::time_t>(epoch_seconds);
    std::tm utc{};
    if (::gmtime_r(&seconds, &utc) == nullptr)
        throw Error("time " + std::to_string(epoch_seconds) + " is out of range");
    char text[64];
    const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return std::string(text, length);
}

std::string config_json(const ImageConfig& config, const std::vector<std::string>& diff_ids) {
    check_config(config);
    for (const std::string& diff_id : diff_ids)
        if (!is_valid_digest(diff_id)) throw Error("invalid layer diff_id \"" + diff_id + "\"");

    json runtime = json::object();
    if (!config.entrypoint.empty()) runtime["Entrypoint"] = config.entrypoint;
    if (!config.cmd.empty()) runtime["Cmd"] = config.cmd;
    if (!config.env.empty()) runtime["Env"] = config.env;
    if (!config.user.empty()) runtime["User"] = config.user;
    if (!config.working_dir.empty()) runtime["WorkingDir"] = config.working_dir;
    if (!config.exposed_ports.empty())
        runtime["ExposedPorts"] = empty_object_map(config.exposed_ports);
    if (!config.volumes.empty()) runtime["Volumes"] = empty_object_map(config.volumes);
    if (!config.labels.empty()) runtime["Labels"] = config.labels;
    if (!config.stop_signal.empty()) runtime["StopSignal"] = config.stop_signal;

    const std::string created = rfc3339_utc(config.created);
    json history = json::array();
    for (std::size_t i = 0; i < diff_ids.size(); ++i)
        history.push_back({{"created", created}, {"created_by", config.created_by}});

    json document = {
        {"architecture", config.architecture},
        {"os", config.os},
        {"created", created},
        // Kept even when empty: some readers expect the object.
        {"config", runtime},
        {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
        {"history", history},
    };
    if (!config.variant.empty()) document["variant"] = config.variant;
    return canonical(document);
}

std::string manifest_json(const Descriptor& config, const std::vector<Descriptor>& layers,
                          const std::map<std::string, std::string>& annotations) {
    json layer_list = json::array();
    for (const Descriptor& layer : layers) layer_list.push_back(descriptor_json(layer));
    json document = {{"schemaVersion", 2},
                     {"mediaType", media_type_image_manifest},
                     {"config", descriptor_json(config)},
                     {"layers", layer_list}};
    if (!annotations.empty()) document["annotations"] = annotations;
    return canonical(document);
}

std::string index_json(const std::vector<Descriptor>& manifests,
                       const std::map<std::string, std::string>& annotations) {
    json manifest_list = json::array();
    for (const Descriptor& manifest : manifests) manifest_list.push_back(descriptor_json(manifest));
    json document = {
        {"schemaVersion", 2}, {"mediaType", media_type_image_index}, {"manifests", manifest_list}};
    if (!annotations.empty()) document["annotations"] = annotations;
    return canonical(document);
}

std::string artifact_manifest_json(std::string_view artifact_type, const Descriptor& empty_config,
                                   const std::vector<Descriptor>& blobs, const Descriptor& subject,
                                   const std::map<std::string, std::string>& annotations) {
    json layer_list = json::array();
    for (const Descriptor& blob : blobs) layer_list.push_back(descriptor_json(blob));
    Descriptor about{subject.media_type, subject.digest, subject.size, std::nullopt, {}, {}};
    json doc = {{"schemaVersion", 2},
                {"mediaType", media_type_image_manifest},
                {"artifactType", artifact_type},
                {"config", descriptor_json(empty_config)},
                {"layers", layer_list},
                {"subject", descriptor_json(about)}};
    if (!annotations.empty()) doc["annotations"] = annotations;
    return canonical(doc);
}

std::string referrers_tag(std::string_view digest) {
    if (!is_valid_digest(digest)) throw Error("invalid digest \"" + std::string(digest) + "\"");
    return "sha256-" + std::string(digest.substr(7));
}

void init_layout(const fs::path& layout) {
    fs::create_directories(layout / "blobs" / "sha256");
    const fs::path marker = layout / "oci-layout";
    const std::string content = R"({"imageLayoutVersion":"1.0.0"})";
    std::error_code error;
    if (!fs::exists(marker, error) || read_file(marker) != content)
        write_file_atomic(marker, content);
}

fs::path blob_path(const fs::path& layout, std::string_view digest) {
    if (!is_valid_digest(digest))
        throw Error("invalid blob digest \"" + std::string(digest) + "\"");
    return layout / "blobs" / "sha256" / std::string(digest.substr(7));
}

Descriptor write_blob(const fs::path& layout, std::string_view media_type,
                      std::string_view content) {
    Descriptor descriptor{
        std::string(media_type), "sha256:" + sha256_hex(content), content.size(), std::nullopt, {}};
    const fs::path path = blob_path(layout, descriptor.digest);
    if (!fs::exists(path)) write_file_atomic(path, content);
    return descriptor;
}

Descriptor store_layer(const fs::path& layout, const LayerInfo& layer) {
    Descriptor descriptor{
        std::string(layer.media_type()), layer.digest, layer.size, std::nullopt, {}};
    const fs::path destination = blob_path(layout, layer.digest);
    if (fs::exists(destination)) return descriptor;
    std::error_code error;
    const auto size = fs::file_size(layer.path, error);
    if (error) throw Error("cannot read layer " + layer.path.string() + ": " + error.message());
    if (size != layer.size)
        throw Error("layer " + layer.path.string() + " is not the one described: size differs");
    fs::create_directories(destination.parent_path());
    if (::link(layer.path.c_str(), destination.c_str()) == 0 || errno == EEXIST) return descriptor;
    // Another filesystem (or no hard links there): copy, and since the bytes
    // pass through anyway, check them.
    HashedFile copy(destination);
    std::ifstream in(layer.path, std::ios::binary);
    if (!in) throw Error("cannot read layer " + layer.path.string());
    std::vector<char> buffer(256 * 1024);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        copy.write(buffer.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw Error("cannot read layer " + layer.path.string());
    if (copy.size() != layer.size || "sha256:" + copy.commit() != layer.digest) {
        fs::remove(destination, error);
        throw Error("layer " + layer.path.string() + " does not match its digest " + layer.digest);
    }
    return descriptor;
}

Descriptor write_image(const fs::path& layout, const ImageConfig& config,
                       const std::vector<LayerInfo>& layers) {
    std::vector<Descriptor> layer_descriptors;
    std::vector<std::string> diff_ids;
    for (const LayerInfo& layer : layers) {
        layer_descriptors.push_back(store_layer(layout, layer));
        diff_ids.push_back(layer.diff_id);
    }
    const Descriptor config_descriptor =
        write_blob(layout, media_type_image_config, config_json(config, diff_ids));
    Descriptor manifest =
        write_blob(layout, media_type_image_manifest,
                   manifest_json(config_descriptor, layer_descriptors, image_annotations(config)));
    manifest.platform = config.platform();
    return manifest;
}

std::map<std::string, std::string> image_annotations(const ImageConfig& config) {
    std::map<std::string, std::string> out;
    for (const auto key : image_annotation_keys)
        if (auto it = config.labels.find(std::string(key));
            it != config.labels.end() && !it->second.empty())
            out.insert(*it);
    return out;
}

Descriptor write_image_index(const fs::path& layout, const std::vector<Descriptor>& manifests,
                             const std::map<std::string, std::string>& annotations) {
    for (const Descriptor& manifest : manifests)
        if (!manifest.platform)
            throw Error("image index entry " + manifest.digest + " has no platform");
    return write_blob(layout, media_type_image_index, index_json(manifests, annotations));
}

void write_layout_index(const fs::path& layout, const std::map<std::string, Descriptor>& refs,
                        UnreferencedBlobs unreferenced) {
    std::vector<Descriptor> tagged;
    for (const auto& [name, descriptor] : refs) {
        check_ref_name(name);
        if (!fs::exists(blob_path(layout, descriptor.digest)))
            throw Error("ref \"" + name + "\" points to " + descriptor.digest +
                        ", which is not in " + layout.string());
        Descriptor copy = descriptor;
        copy.annotations[std::string(ref_name_annotation)] = name;
        tagged.push_back(std::move(copy));
    }
    init_layout(layout);
    write_file_atomic(layout / "index.json", index_json(tagged));
    if (unreferenced == UnreferencedBlobs::remove) remove_unreferenced_blobs(layout);
}

std::size_t remove_unreferenced_blobs(const fs::path& layout) {
    const fs::path index = layout / "index.json";
    if (!fs::exists(index)) throw Error(layout.string() + " has no index.json");

    std::set<std::string> reachable;
    std::vector<std::string> pending_digests;
    std::vector<std::string> pending_types;
    collect_children(parse_json_file(index), pending_digests, pending_types);
    while (!pending_digests.empty()) {
        const std::string digest = pending_digests.back();
        const std::string media_type = pending_types.back();
        pending_digests.pop_back();
        pending_types.pop_back();
        if (!is_valid_digest(digest) || !reachable.insert(digest).second) continue;
        const fs::path path = blob_path(layout, digest);
        // A manifest that cannot be parsed throws before anything is deleted:
        // better a few stale blobs than a lost layer.
        if (is_manifest_or_index(media_type) && fs::exists(path))
            collect_children(parse_json_file(path), pending_digests, pending_types);
    }

    std::size_t removed = 0;
    for (const fs::directory_entry& blob : fs::directory_iterator(layout / "blobs" / "sha256")) {
        const std::string name = blob.path().filename().string();
        if (!blob.is_regular_file() || !is_valid_digest("sha256:" + name)) continue;
        if (reachable.count("sha256:" + name)) continue;
        fs::remove(blob.path());
        ++removed;
    }
    return removed;
}

}  // namespace dmc::image
