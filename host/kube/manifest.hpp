// The objects of a deploy hook as dmc checks, prints and sends them: JSON (or
// YAML) text checked for apiVersion, kind and a valid name, and YAML out for
// --print, one document per object.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace dmc::kube {

// Parses one object; throws Error naming `origin` ("the deploy hook of nginx") and
// what is missing or wrong.
nlohmann::ordered_json parse_object(const std::string& text, const std::string& origin);

// Block-style YAML of a JSON value; strings that YAML would read as another type
// are quoted, multi-line strings are literal blocks.
std::string to_yaml(const nlohmann::ordered_json& value);

// "Deployment nginx": how messages name an object.
std::string object_name(const nlohmann::ordered_json& object);

// Whether `name` is a DNS-1123 subdomain, as object names must be.
bool valid_object_name(const std::string& name);

}  // namespace dmc::kube
