// cosign's attachments in a registry, keyed signatures without a transparency log
// (sigstore/cosign, "tag" storage): what signs or attests the manifest <digest> of a
// repository is an image of the same repository tagged "sha256-<hex>.sig" (or
// ".att"), one layer per signature: the simple-signing payload with the signature
// in an annotation, or a DSSE envelope holding an in-toto statement.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "image/oci.hpp"

namespace dmc::sign {

inline constexpr std::string_view signature_annotation = "dev.cosignproject.cosign/signature";
inline constexpr std::string_view predicate_type_annotation = "predicateType";
inline constexpr std::string_view simple_signing_media_type =
    "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr std::string_view dsse_media_type = "application/vnd.dsse.envelope.v1+json";
inline constexpr std::string_view signature_suffix = ".sig";
inline constexpr std::string_view attestation_suffix = ".att";

// The payload a signature signs: it names the manifest by digest, and the repository.
std::string simple_signing_payload(const std::string& repository, const std::string& digest);
// The manifest digest a simple-signing payload names; "" when it is not one.
std::string signed_digest(const std::string& payload);

// "sha256:<hex>" -> "sha256-<hex>.sig" (or ".att").
std::string attachment_tag(const std::string& digest, std::string_view suffix);

// One layer of an attachment image.
struct Attachment {
    std::string media_type;
    std::string content;
    std::map<std::string, std::string> annotations;
};

// A layer of an attachment image as its manifest lists it.
struct AttachmentLayer {
    std::string media_type, digest;
    std::map<std::string, std::string> annotations;
};
// The layers an attachment image's manifest lists; none when it is no manifest.
std::vector<AttachmentLayer> attachment_layers(std::string_view manifest);

class PublicKey;
// Whether `key` signed a layer whose content is `content`: a simple-signing payload
// whose signature annotation checks, or a DSSE envelope one of whose signatures does.
bool signed_with(const AttachmentLayer& layer, const std::string& content, const PublicKey& key);

// Stores an image of the attachments, in this order, in an OCI layout and returns
// its manifest's descriptor (for write_layout_index).
image::Descriptor write_attachments(const std::filesystem::path& layout,
                                    const std::vector<Attachment>& layers);

}  // namespace dmc::sign
