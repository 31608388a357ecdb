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

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::istringstream in{std::string(text)};
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

}  // namespace dmc
