// Small text helpers shared by the parsers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dmc {

// ASCII lower case.
std::string lower(std::string_view text);

// The text with the user information of every URL in it ("https://user:secret@host/")
// replaced by "***", so that no credential reaches a log or a file name.
std::string redact_credentials(std::string_view text);

// Whitespace-separated words.
std::vector<std::string> words(std::string_view text);

}  // namespace dmc
