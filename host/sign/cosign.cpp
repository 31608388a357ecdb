#include "sign/cosign.hpp"

#include <nlohmann/json.hpp>

#include "sign/dsse.hpp"
#include "sign/key.hpp"
#include "util/base64.hpp"
#include "util/error.hpp"

using nlohmann::json;

namespace dmc::sign {

std::string simple_signing_payload(const std::string& repository, const std::string& digest) {
    return json{{"critical",
                 {{"identity", {{"docker-reference", repository}}},
                  {"image", {{"docker-manifest-digest", digest}}},
                  {"type", "cosign container image signature"}}},
                {"optional", nullptr}}
        .dump();
}

std::string signed_digest(const std::string& payload) {
    const json p = json::parse(payload, nullptr, false);
    if (!p.is_object()) return "";
    const auto ptr = json::json_pointer("/critical/image/docker-manifest-digest");
    if (!p.contains(ptr) || !p[ptr].is_string() ||
        p.value(json::json_pointer("/critical/type"), std::string()) !=
            "cosign container image signature")
        return "";
    return p[ptr].get<std::string>();
}

std::string attachment_tag(const std::string& digest, std::string_view suffix) {
    // The referrers tag schema's tag, which cosign's tags extend.
    return image::referrers_tag(digest) + std::string(suffix);
}

std::vector<AttachmentLayer> attachment_layers(std::string_view manifest) {
    std::vector<AttachmentLayer> out;
    const json doc = json::parse(manifest, nullptr, false);
    if (!doc.is_object() || !doc.contains("layers") || !doc["layers"].is_array()) return out;
    for (const auto& l : doc["layers"]) {
        if (!l.is_object()) continue;
        AttachmentLayer layer{l.value("mediaType", ""), l.value("digest", ""), {}};
        if (l.contains("annotations") && l["annotations"].is_object())
            for (const auto& [k, v] : l["annotations"].items())
                if (v.is_string()) layer.annotations[k] = v.get<std::string>();
        out.push_back(std::move(layer));
    }
    return out;
}

bool signed_with(const AttachmentLayer& layer, const std::string& content, const PublicKey& key) {
    if (layer.media_type == dsse_media_type)
        return open_envelope(content, in_toto_payload_type, key).has_value();
    auto it = layer.annotations.find(std::string(signature_annotation));
    if (it == layer.annotations.end()) return false;
    const auto der = base64_decode(it->second);
    return der && key.verify(content, *der);
}

image::Descriptor write_attachments(const std::filesystem::path& layout,
                                    const std::vector<Attachment>& layers) {
    std::vector<image::Descriptor> descriptors;
    json diff_ids = json::array();
    for (const auto& a : layers) {
        auto d = image::write_blob(layout, a.media_type, a.content);
        d.annotations = a.annotations;
        diff_ids.push_back(d.digest);
        descriptors.push_back(std::move(d));
    }
    // The config cosign writes: no platform, the payloads as uncompressed layers.
    const json config = {{"architecture", ""},
                         {"os", ""},
                         {"config", json::object()},
                         {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    const auto config_desc =
        image::write_blob(layout, image::media_type_image_config, config.dump());
    const std::string manifest = image::manifest_json(config_desc, descriptors);
    return image::write_blob(layout, image::media_type_image_manifest, manifest);
}

}  // namespace dmc::sign
