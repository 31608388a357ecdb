// Reading an OCI layout back (image-layout.md): the one reader of what oci.cpp
// writes, for pushing and loading. Every document read is checked against its
// digest, and every blob's size against its descriptor; what is missing or damaged
// is an Error that says to build the image again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "image/oci.hpp"

namespace dmc::image {

// A manifest or an image index, as stored.
struct LayoutDocument {
    std::string digest, media_type, bytes;
};
// A config or a layer: pushed from its file.
struct LayoutBlob {
    std::string digest;
    std::uint64_t size = 0;
    std::filesystem::path path;
};
// Everything one ref reaches.
struct LayoutContent {
    std::vector<LayoutDocument> documents;  // children first: the ref's own document last
    std::vector<LayoutBlob> blobs;          // each once
};

// The descriptor index.json names `ref` with; the Error lists the refs there are.
Descriptor find_ref(const std::filesystem::path& layout, const std::string& ref);
// The bytes of a document blob, checked against its digest.
std::string read_document(const std::filesystem::path& layout, const std::string& digest);
LayoutContent read_content(const std::filesystem::path& layout, const std::string& ref);
// A label of the image config `ref` names (the first image of an index); "" when unset.
std::string config_label(const std::filesystem::path& layout, const std::string& ref,
                         const std::string& label);

}  // namespace dmc::image
