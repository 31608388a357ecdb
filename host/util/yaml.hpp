// The rules every YAML file that people write for dmc is read by (the config file,
// templates written as YAML): an error names the file, the line and the key, a key
// given twice names both lines, and malformed YAML is one line saying where.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>

namespace dmc {

// The document of `text`; throws Error "ORIGIN:LINE: malformed YAML: ...".
YAML::Node load_yaml(const std::string& text, const std::string& origin);

// Throws Error "ORIGIN:LINE: key 'KEY' WHAT", the line being the node's.
[[noreturn]] void yaml_error(const std::string& origin, const YAML::Node& node,
                             const std::string& key, const std::string& what);

// Throws Error "ORIGIN:LINE: unknown key 'KEY' (valid keys: VALID)".
[[noreturn]] void unknown_yaml_key(const std::string& origin, const YAML::Node& key_node,
                                   const std::string& key, const std::string& valid);

// Calls `each` for the keys of a mapping in order, each once: a key that is not a
// plain word, or one given twice, is an error; so is `map` not being a mapping.
// `where` is the dotted path of the mapping ("" at the top level).
void for_each_entry(const YAML::Node& map, const std::string& where, const std::string& origin,
                    const std::function<void(const std::string& key, const YAML::Node& key_node,
                                             const YAML::Node& value)>& each);

}  // namespace dmc
