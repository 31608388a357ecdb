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

// A URL without its user information ("https://user:secret@host/x" -> "https://host/x"):
// how a mirror is written down (the lock), to be matched with the configured one.
std::string without_credentials(std::string_view url);

// The text cut to what a person reads on a console: at most max_lines lines of at
// most max_width characters each. Returns the text unchanged when it fits; else the
// cut text, ending with "..." and how much was left out.
std::string cut_for_console(std::string_view text, std::size_t max_width = 400,
                            std::size_t max_lines = 20);

// The text with every control character but '\n' shown as \t or \xNN, so that
// nothing from outside (a server's message, a plugin's log line) can move a cursor
// or fake a log line.
std::string escape_controls(std::string_view text);

// Bytes as lower-case hexadecimal, two digits each.
std::string to_hex(std::string_view bytes);

// Whitespace-separated words.
std::vector<std::string> words(std::string_view text);

}  // namespace dmc
