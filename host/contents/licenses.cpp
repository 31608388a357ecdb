#include "contents/licenses.hpp"

#include <map>
#include <vector>

#include "apt/deb822.hpp"
#include "util/text.hpp"

namespace dmc::contents {
namespace {

// Debian's short names (copyright-format 1.0, "License Specification") that differ
// from SPDX's; those spelled alike are recognised by the SPDX list below.
const std::map<std::string, std::string>& debian_names() {
    static const std::map<std::string, std::string> names = {
        {"expat", "MIT"},
        {"bsd-2-clause", "BSD-2-Clause"},
        {"bsd-3-clause", "BSD-3-Clause"},
        {"bsd-4-clause", "BSD-4-Clause"},
        {"apache-2.0", "Apache-2.0"},
        {"gpl-2", "GPL-2.0-only"},
        {"gpl-2+", "GPL-2.0-or-later"},
        {"gpl-3", "GPL-3.0-only"},
        {"gpl-3+", "GPL-3.0-or-later"},
        {"lgpl-2", "LGPL-2.0-only"},
        {"lgpl-2+", "LGPL-2.0-or-later"},
        {"lgpl-2.1", "LGPL-2.1-only"},
        {"lgpl-2.1+", "LGPL-2.1-or-later"},
        {"lgpl-3", "LGPL-3.0-only"},
        {"lgpl-3+", "LGPL-3.0-or-later"},
        {"agpl-3", "AGPL-3.0-only"},
        {"agpl-3+", "AGPL-3.0-or-later"},
        {"mpl-2.0", "MPL-2.0"},
        {"isc", "ISC"},
        {"zlib", "Zlib"},
        {"php-3.01", "PHP-3.01"},
        {"php-3.0", "PHP-3.0"},
        {"openssl", "OpenSSL"},
        {"curl", "curl"},
        {"public-domain", ""},  // no SPDX identifier
    };
    return names;
}

std::string spdx_id(const std::string& debian) {
    const auto it = debian_names().find(lower(debian));
    return it == debian_names().end() ? "" : it->second;
}

}  // namespace

std::string spdx_license(std::string_view copyright) {
    // The header paragraph names the format; then the paragraphs, one per blank line.
    if (copyright.find("copyright-format/1.0") == std::string_view::npos) return "";
    std::size_t pos = 0;
    while (pos < copyright.size()) {
        std::size_t end = copyright.find("\n\n", pos);
        if (end == std::string_view::npos) end = copyright.size();
        const apt::Stanza paragraph(copyright.substr(pos, end - pos));
        pos = end + 2;
        if (apt::trim(paragraph.get("Files")) != "*") continue;
        // "License: GPL-2+ or BSD-3-clause" (the first line; the text follows).
        std::string_view value = paragraph.get("License");
        value = apt::trim(value.substr(0, value.find('\n')));
        std::string out;
        for (const auto& word : words(value)) {
            const std::string l = lower(word);
            if (l == "or" || l == "and") {
                out += " " + std::string(l == "or" ? "OR" : "AND") + " ";
                continue;
            }
            const std::string id = spdx_id(word);
            if (id.empty()) return "";
            out += id;
        }
        return out;
    }
    return "";
}

}  // namespace dmc::contents
