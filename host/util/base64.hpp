// Base64 as RFC 4648 writes it; decoding also takes the URL-safe alphabet.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dmc {

std::string base64_encode(std::string_view data);
// nullopt when the text holds a character of neither alphabet (line breaks are skipped).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace dmc
