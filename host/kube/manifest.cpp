#include "kube/manifest.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <regex>

#include "util/error.hpp"

using json = nlohmann::ordered_json;

namespace dmc::kube {
namespace {

// YAML's core schema, for the plain scalars of a YAML object.
json scalar_of(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    if (node.Tag() == "!") return text;  // quoted
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL")
        return nullptr;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    static const std::regex integer("[-+]?[0-9]+");
    static const std::regex real("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
    if (std::regex_match(text, integer)) {
        try {
            return std::stoll(text);
        } catch (const std::exception&) {
            return text;
        }
    }
    if (std::regex_match(text, real)) return std::stod(text);
    return text;
}

json from_yaml(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: {
            json out = json::object();
            for (const auto& kv : node) out[kv.first.as<std::string>()] = from_yaml(kv.second);
            return out;
        }
        case YAML::NodeType::Sequence: {
            json out = json::array();
            for (const auto& item : node) out.push_back(from_yaml(item));
            return out;
        }
        case YAML::NodeType::Scalar:
            return scalar_of(node);
        default:
            return nullptr;
    }
}

// A string every YAML reader reads back as the same string when written plain: not
// YAML 1.1's words (yes, no, on, off, y, n: kubectl's go-yaml reads them as
// booleans), nor anything YAML 1.1 or 1.2 may read as a number or a date (0x1F,
// 0o17, 1_000, 1:20, .inf, 2026-12-01).
bool plain_ok(const std::string& s) {
    if (s.empty()) return false;
    std::string lower = s;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* word : {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
                             ".inf", "-.inf", "+.inf", ".nan"})
        if (lower == word) return false;
    static const std::regex numberish("[-+.]?[0-9._:a-fox+-]*[0-9][0-9._:a-fox+-]*");
    static const std::regex date("[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([tT ].*)?");
    if (std::regex_match(lower, numberish) || std::regex_match(lower, date)) return false;
    static const std::regex safe("[A-Za-z0-9_./][A-Za-z0-9_./:@=+-]*");
    if (!std::regex_match(s, safe)) return false;
    if (s.back() == ':') return false;
    const YAML::Node probe = YAML::Load(s);
    return probe.IsScalar() && scalar_of(probe).is_string();
}

void indent(std::string& out, int level) { out.append(static_cast<std::size_t>(level) * 2, ' '); }

std::string scalar_text(const json& v) {
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        return plain_ok(s) ? s : json(s).dump();
    }
    return v.dump();
}

// A value on the line of its key or dash: a scalar, or an empty mapping or list.
std::string inline_text(const json& v) {
    if (v.is_object()) return "{}";
    if (v.is_array()) return "[]";
    return scalar_text(v);
}

bool block_string(const json& v) {
    if (!v.is_string()) return false;
    const auto& s = v.get_ref<const std::string&>();
    if (s.find('\n') == std::string::npos) return false;
    // Literal blocks cannot hold carriage returns, tabs at a line start or trailing blanks.
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' || (s[i] < 0x20 && s[i] != '\n' && s[i] != '\t')) return false;
        if (s[i] == '\n' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')) return false;
    }
    return s.front() != ' ' && s.front() != '\t' && s.front() != '\n';
}

void write_block(std::string& out, const std::string& s, int level) {
    std::size_t trailing = 0;
    while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
    out += trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
    out += '\n';
    std::size_t start = 0;
    const std::string body = s.substr(0, s.size() - (trailing > 1 ? 0 : trailing));
    while (start < body.size()) {
        auto end = body.find('\n', start);
        if (end == std::string::npos) end = body.size();
        const std::string line = body.substr(start, end - start);
        if (!line.empty()) indent(out, level);
        out += line + "\n";
        start = end + 1;
    }
}

void write(std::string& out, const json& v, int level);

void write_member(std::string& out, const std::string& key, const json& v, int level) {
    indent(out, level);
    out += scalar_text(key) + ":";
    if (v.is_object() && !v.empty()) {
        out += "\n";
        write(out, v, level + 1);
    } else if (v.is_array() && !v.empty()) {
        out += "\n";
        write(out, v, level);
    } else if (block_string(v)) {
        out += " ";
        write_block(out, v.get_ref<const std::string&>(), level + 1);
    } else {
        out += " " + inline_text(v) + "\n";
    }
}

void write(std::string& out, const json& v, int level) {
    if (v.is_object()) {
        for (const auto& [key, item] : v.items()) write_member(out, key, item, level);
    } else if (v.is_array()) {
        for (const auto& item : v) {
            indent(out, level);
            if (item.is_object() && !item.empty()) {
                // "- key: value" with the other members under the first.
                out += "- ";
                std::string rest;
                write(rest, item, level + 1);
                out += rest.substr(static_cast<std::size_t>(level + 1) * 2);
            } else if (item.is_array() && !item.empty()) {
                out += "-\n";
                write(out, item, level + 1);
            } else if (block_string(item)) {
                out += "- ";
                write_block(out, item.get_ref<const std::string&>(), level + 1);
            } else {
                out += "- " + inline_text(item) + "\n";
            }
        }
    } else {
        out += scalar_text(v) + "\n";
    }
}

}  // namespace

bool valid_object_name(const std::string& name) {
    static const std::regex dns1123(
        "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    return !name.empty() && name.size() <= 253 && std::regex_match(name, dns1123);
}

std::string object_name(const json& o) {
    return o.value("kind", std::string("object")) + " " +
           o.value(json::json_pointer("/metadata/name"), std::string("(unnamed)"));
}

json parse_object(const std::string& text, const std::string& origin) {
    json o;
    try {
        o = json::parse(text);
    } catch (const json::exception&) {
        try {
            o = from_yaml(YAML::Load(text));
        } catch (const YAML::Exception& e) {
            throw Error(origin + " gave an object that is neither JSON nor YAML (line " +
                        std::to_string(e.mark.line + 1) + ": " + e.msg + ")");
        }
    }
    if (!o.is_object()) throw Error(origin + " gave an object that is not a mapping");
    try {
        (void)o.dump();  // what is sent to the API server must be UTF-8
    } catch (const json::type_error&) {
        throw Error(origin + " gave an object with text that is not UTF-8");
    }
    for (const char* field : {"apiVersion", "kind"})
        if (!o.contains(field) || !o[field].is_string() || o[field].get<std::string>().empty())
            throw Error(origin + " gave an object without " + field);
    // Read step by step: a metadata that is a list, say, is no name (a JSON pointer
    // would throw on it).
    json name;
    if (const auto m = o.find("metadata"); m != o.end() && m->is_object())
        if (const auto n = m->find("name"); n != m->end()) name = *n;
    if (!name.is_string() || !valid_object_name(name.get<std::string>()))
        throw Error(origin + " gave the " + o["kind"].get<std::string>() + " '" +
                    (name.is_string() ? name.get<std::string>() : std::string()) +
                    "' whose metadata.name is not a DNS-1123 name (lower-case letters, digits, "
                    "'-' and '.')");
    return o;
}

std::string to_yaml(const json& value) {
    std::string out;
    write(out, value, 0);
    return out;
}

}  // namespace dmc::kube
