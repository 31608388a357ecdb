#include "image/docker_archive.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "image/compression.hpp"
#include "image/tar_writer.hpp"
#include "util/error.hpp"
#include "util/hashed_file.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::image {

namespace {

void check_repo_tag(const std::string& repo_tag) {
    // docker load takes only name:tag references.
    const std::size_t colon = repo_tag.rfind(':');
    const std::size_t slash = repo_tag.rfind('/');
    if (colon == std::string::npos || colon == 0 || colon + 1 == repo_tag.size() ||
        (slash != std::string::npos && slash > colon))
        throw Error("docker-archive tag \"" + repo_tag + "\" is not name:tag");
}

void add_file(TarWriter& tar, const std::string& name, std::string_view content,
              std::int64_t mtime) {
    TarHeader header;
    header.name = name;
    header.mtime = mtime;
    header.size = content.size();
    tar.write_header(header);
    tar.write_data(content.data(), content.size());
}

// Streams the uncompressed layer into the archive, checking it against the
// diff_id the config will announce (docker load checks it too, but later and
// with a less helpful message).
void add_layer(TarWriter& tar, const std::string& directory, const LayerInfo& layer,
               std::int64_t mtime) {
    TarHeader header;
    header.kind = TarHeader::Kind::directory;
    header.name = directory + "/";
    header.mode = 0755;
    header.mtime = mtime;
    tar.write_header(header);

    header.kind = TarHeader::Kind::file;
    header.name = directory + "/layer.tar";
    header.mode = 0644;
    header.size = layer.tar_size;
    tar.write_header(header);
    Sha256 hash;
    std::uint64_t size = 0;
    decompress_file(layer.path, layer.compression, [&](const void* data, std::size_t length) {
        if (size + length > layer.tar_size)
            throw Error("layer " + layer.path.string() + " is larger than described");
        hash.update(data, length);
        size += length;
        tar.write_data(data, length);
    });
    if (size != layer.tar_size || "sha256:" + hash.hex() != layer.diff_id)
        throw Error("layer " + layer.path.string() + " does not match its diff_id " +
                    layer.diff_id);
}

}  // namespace

void write_docker_archive(const fs::path& output, const ImageConfig& config,
                          const std::vector<LayerInfo>& layers,
                          const std::vector<std::string>& repo_tags) {
    for (const std::string& repo_tag : repo_tags) check_repo_tag(repo_tag);
    std::vector<std::string> diff_ids;
    for (const LayerInfo& layer : layers) diff_ids.push_back(layer.diff_id);
    const std::string config_document = config_json(config, diff_ids);
    const std::string config_name = sha256_hex(config_document) + ".json";

    json layer_names = json::array();
    for (const std::string& diff_id : diff_ids)
        layer_names.push_back(diff_id.substr(std::string_view("sha256:").size()) + "/layer.tar");
    const json manifest =
        json::array({{{"Config", config_name}, {"RepoTags", repo_tags}, {"Layers", layer_names}}});
    std::string manifest_document;
    try {
        manifest_document = manifest.dump();
    } catch (const json::exception& e) {
        throw Error(std::string("cannot encode the docker-archive manifest: ") + e.what());
    }

    HashedFile file(output);
    TarWriter tar([&](const void* data, std::size_t size) { file.write(data, size); });
    std::set<std::string> written;  // an image may repeat a layer; store it once
    for (const LayerInfo& layer : layers) {
        const std::string directory = layer.diff_id.substr(std::string_view("sha256:").size());
        if (written.insert(directory).second) add_layer(tar, directory, layer, config.created);
    }
    add_file(tar, config_name, config_document, config.created);
    add_file(tar, "manifest.json", manifest_document, config.created);
    tar.finish();
    file.commit();
}

}  // namespace dmc::image
