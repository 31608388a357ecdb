#include "util/name.hpp"

#include <cstdio>

#include "util/error.hpp"

namespace dmc {
namespace {

bool name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool name_char(char c) {
    return name_start(c) || c == '.' || c == '_' || c == '+' || c == '~' || c == '-';
}

constexpr std::size_t kMaxName = 64;

}  // namespace

std::optional<std::string> control_character(std::string_view value) {
    for (unsigned char c : value)
        if (c < 0x20 || c == 0x7f) return "it contains a control character";
    return std::nullopt;
}

std::optional<std::string> unsafe_name(std::string_view value) {
    if (value.empty()) return "it is empty";
    if (auto why = control_character(value)) return why;
    if (value.size() > kMaxName)
        return "it is longer than " + std::to_string(kMaxName) + " characters";
    if (!name_start(value.front())) return "it must start with a letter or a digit";
    for (char c : value)
        if (!name_char(c))
            return std::string("it contains '") + c +
                   "'; only letters, digits and . _ + ~ - are allowed";
    return std::nullopt;
}

std::string quote_value(std::string_view value) {
    std::string out = "'";
    for (unsigned char c : value) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else
            out += static_cast<char>(c);
    }
    return out + "'";
}

void check_name(std::string_view what, std::string_view value) {
    if (auto why = unsafe_name(value))
        throw UsageError(std::string(what) + " " + quote_value(value) +
                         " is not a valid name: " + *why);
}

std::filesystem::path child_path(const std::filesystem::path& dir, std::string_view name) {
    std::optional<std::string> why;
    if (name.empty() || name == "." || name == "..")
        why = "it is not a file name";
    else if (name.find('/') != std::string_view::npos)
        why = "it contains '/'";
    else if (name.size() > 255)
        why = "it is longer than 255 characters";
    else
        why = control_character(name);
    if (why)
        throw Error("refusing to make a path under " + dir.string() + " from " + quote_value(name) +
                    ": " + *why);
    return dir / std::string(name);
}

}  // namespace dmc
