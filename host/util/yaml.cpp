#include "util/yaml.hpp"

#include <map>

#include "util/error.hpp"

namespace dmc {

namespace {
std::string line_of(const YAML::Node& node) { return std::to_string(node.Mark().line + 1); }
}  // namespace

YAML::Node load_yaml(const std::string& text, const std::string& origin) {
    try {
        return YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw Error(origin + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML: " + e.msg);
    }
}

void yaml_error(const std::string& origin, const YAML::Node& node, const std::string& key,
                const std::string& what) {
    throw Error(origin + ":" + line_of(node) + ": key '" + key + "' " + what);
}

void unknown_yaml_key(const std::string& origin, const YAML::Node& key_node, const std::string& key,
                      const std::string& valid) {
    throw Error(origin + ":" + line_of(key_node) + ": unknown key '" + key +
                "' (valid keys: " + valid + ")");
}

void for_each_entry(const YAML::Node& map, const std::string& where, const std::string& origin,
                    const std::function<void(const std::string& key, const YAML::Node& key_node,
                                             const YAML::Node& value)>& each) {
    if (!map.IsMap())
        yaml_error(origin, map, where.empty() ? "(top level)" : where,
                   "must be a mapping of keys to values");
    std::map<std::string, int> seen;
    for (const auto& entry : map) {
        if (!entry.first.IsScalar())
            yaml_error(origin, entry.first, where.empty() ? "(top level)" : where,
                       "has a key that is not a plain word");
        const std::string key = entry.first.as<std::string>();
        const std::string full = where.empty() ? key : where + "." + key;
        const int line = entry.first.Mark().line + 1;
        if (auto [it, fresh] = seen.emplace(key, line); !fresh)
            throw Error(origin + ":" + std::to_string(line) + ": key '" + full +
                        "' is given twice (lines " + std::to_string(it->second) + " and " +
                        std::to_string(line) + "); keep one");
        each(key, entry.first, entry.second);
    }
}

}  // namespace dmc
