// Small text helpers shared by the parsers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dmc {

// ASCII lower case.
std::string lower(std::string_view text);

// Whitespace-separated words.
std::vector<std::string> words(std::string_view text);

}  // namespace dmc
