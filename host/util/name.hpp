// Values that become one component of a path (a dist, an arch, a template name, a
// tag) are checked once, where they enter dmc, by these rules; and every path built
// from them goes through child_path, so nothing can be written outside its directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace dmc {

// Why `value` is not a safe single name, or nullopt when it is one: 1 to 64 of
// letters, digits and . _ + ~ -, starting with a letter or digit (the characters of
// Debian's suite, codename and architecture names). So no '/', no "..", no space,
// no control character.
std::optional<std::string> unsafe_name(std::string_view value);

// Throws UsageError "WHAT 'VALUE' is not a valid name: WHY" when unsafe_name says so.
void check_name(std::string_view what, std::string_view value);

// Why `value` contains a character no setting may hold (a newline, a tab or any
// other control character), or nullopt.
std::optional<std::string> control_character(std::string_view value);

// dir / name, after checking that name is one path component (not empty, "." or
// "..", no '/', no control character): the one way a path is made from a value.
std::filesystem::path child_path(const std::filesystem::path& dir, std::string_view name);

// The value quoted for a message, with control characters shown as \n, \x01.
std::string quote_value(std::string_view value);

}  // namespace dmc
