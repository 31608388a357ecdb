// The `docker save` tarball ("docker-archive"), which `docker load`,
// `podman load` and skopeo's docker-archive: transport read:
//
//   <diff_id hex>/layer.tar   the uncompressed layer
//   <config hex>.json         the image config (the same JSON as in the OCI layout)
//   manifest.json             [{"Config":"<config hex>.json","Layers":[...],"RepoTags":[...]}]
//
// Written deterministically like the layers: restricted pax, root:root, every
// mtime the config's `created`, fixed entry order.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "image/layer.hpp"
#include "image/oci.hpp"

namespace dmc::image {

// Writes the archive of one image (one platform) to `output` atomically. The
// layers are read from LayerInfo::path and decompressed on the fly; their
// diff_ids are checked on the way. `repo_tags` are "name:tag" references
// ("dmc/nginx:latest"); none leaves the loaded image untagged.
void write_docker_archive(const std::filesystem::path& output, const ImageConfig& config,
                          const std::vector<LayerInfo>& layers,
                          const std::vector<std::string>& repo_tags);

}  // namespace dmc::image
