// DSSE (Dead Simple Signing Envelope, secure-systems-lab/dsse v1): the envelope
// in-toto attestations travel in. What is signed is the pre-authentication
// encoding PAE(type, body), never the body alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sign/key.hpp"

namespace dmc::sign {

inline constexpr std::string_view in_toto_payload_type = "application/vnd.in-toto+json";

// "DSSEv1 <len(type)> <type> <len(body)> <body>", lengths in ASCII decimal bytes.
std::string pae(std::string_view type, std::string_view body);

// {"payload": base64(body), "payloadType": type, "signatures": [{"keyid": "", "sig": ...}]}
std::string envelope(std::string_view type, const std::string& body, const PrivateKey& key);

// The body of an envelope that one of its signatures checks with `key` and whose
// type is `type`; nullopt otherwise (or when it is not an envelope at all).
std::optional<std::string> open_envelope(const std::string& envelope, std::string_view type,
                                         const PublicKey& key);

}  // namespace dmc::sign
