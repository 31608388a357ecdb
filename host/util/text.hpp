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

// The text cut to what a person reads on a console: at most max_lines lines of at
// most max_width characters each. Returns the text unchanged when it fits; else the
// cut text, ending with "..." and how much was left out.
std::string cut_for_console(std::string_view text, std::size_t max_width = 400,
                            std::size_t max_lines = 20);

// Whitespace-separated words.
std::vector<std::string> words(std::string_view text);

}  // namespace dmc
