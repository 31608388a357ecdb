#include "util/text.hpp"

#include <algorithm>
#include <sstream>

namespace dmc {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string redact_credentials(std::string_view text) {
    std::string out;
    std::size_t pos = 0;
    for (;;) {
        const auto scheme = text.find("://", pos);
        if (scheme == std::string_view::npos) break;
        const auto start = scheme + 3;
        auto end = text.find_first_of("/ \t\n\"'", start);
        if (end == std::string_view::npos) end = text.size();
        const auto at = text.substr(start, end - start).rfind('@');
        out.append(text.substr(pos, start - pos));
        if (at != std::string_view::npos) {
            out += "***";
            pos = start + at;
        } else {
            pos = start;
        }
    }
    out.append(text.substr(pos));
    return out;
}

std::string without_credentials(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return std::string(url);
    const auto start = scheme + 3;
    const auto end = std::min(url.find('/', start), url.size());
    const auto at = url.substr(start, end - start).rfind('@');
    if (at == std::string_view::npos) return std::string(url);
    return std::string(url.substr(0, start)) + std::string(url.substr(start + at + 1));
}

std::string to_hex(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0xf]);
    }
    return out;
}

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::istringstream in{std::string(text)};
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

std::string cut_for_console(std::string_view text, std::size_t max_width, std::size_t max_lines) {
    std::string out;
    std::size_t lines = 0, left_chars = 0, left_lines = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(pos, end - pos);
        if (lines < max_lines) {
            if (lines) out += '\n';
            if (line.size() > max_width) {
                out.append(line.substr(0, max_width));
                out += "...";
                left_chars += line.size() - max_width;
            } else {
                out.append(line);
            }
        } else {
            ++left_lines;
        }
        ++lines;
        if (end == text.size()) break;
        pos = end + 1;
    }
    if (left_chars == 0 && left_lines == 0) return std::string(text);
    out += " (cut:";
    if (left_chars) out += " " + std::to_string(left_chars) + " more characters";
    if (left_chars && left_lines) out += " and";
    if (left_lines) out += " " + std::to_string(left_lines) + " more lines";
    return out + ")";
}

std::string escape_controls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (c == '\n') {
            out += '\n';
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += to_hex(std::string_view(reinterpret_cast<const char*>(&c), 1));
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace dmc
