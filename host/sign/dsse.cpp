#include "sign/dsse.hpp"

#include <nlohmann/json.hpp>

#include "util/base64.hpp"

using nlohmann::json;

namespace dmc::sign {

std::string pae(std::string_view type, std::string_view body) {
    std::string out = "DSSEv1 " + std::to_string(type.size()) + " ";
    out += type;
    out += " " + std::to_string(body.size()) + " ";
    out += body;
    return out;
}

std::string envelope(std::string_view type, const std::string& body, const PrivateKey& key) {
    const json e = {
        {"payloadType", type},
        {"payload", base64_encode(body)},
        {"signatures",
         json::array({{{"keyid", ""}, {"sig", base64_encode(key.sign(pae(type, body)))}}})}};
    return e.dump();
}

std::optional<std::string> open_envelope(const std::string& text, std::string_view type,
                                         const PublicKey& key) {
    const json e = json::parse(text, nullptr, false);
    if (!e.is_object() || !e.contains("payload") || !e["payload"].is_string() ||
        e.value("payloadType", "") != type || !e.contains("signatures") ||
        !e["signatures"].is_array())
        return std::nullopt;
    auto body = base64_decode(e["payload"].get<std::string>());
    if (!body) return std::nullopt;
    const std::string signed_bytes = pae(type, *body);
    for (const auto& s : e["signatures"]) {
        if (!s.is_object() || !s.contains("sig") || !s["sig"].is_string()) continue;
        const auto sig = base64_decode(s["sig"].get<std::string>());
        if (sig && key.verify(signed_bytes, *sig)) return body;
    }
    return std::nullopt;
}

}  // namespace dmc::sign
