#include "config/settings.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <functional>
#include <set>

#include "util/error.hpp"

namespace fs = std::filesystem;

namespace dmc::config {
namespace {

fs::path user_cache_dir(Getenv getenv) {
    if (auto xdg = getenv("XDG_CACHE_HOME"); xdg && !xdg->empty()) return fs::path(*xdg) / "dmc";
    if (auto home = getenv("HOME"); home && !home->empty())
        return fs::path(*home) / ".cache" / "dmc";
    return fs::temp_directory_path() / "dmc-cache";
}

[[noreturn]] void bad(const std::string& origin, const YAML::Node& node, const std::string& key,
                      const std::string& what) {
    throw Error(origin + ":" + std::to_string(node.Mark().line + 1) + ": key '" + key + "' " +
                what);
}

std::string scalar(const YAML::Node& node, const std::string& key, const std::string& origin) {
    if (!node.IsScalar()) bad(origin, node, key, "must be a string");
    return node.as<std::string>();
}

bool boolean(const YAML::Node& node, const std::string& key, const std::string& origin) {
    if (!node.IsScalar()) bad(origin, node, key, "must be true or false");
    try {
        return node.as<bool>();
    } catch (const YAML::Exception&) {
        bad(origin, node, key, "must be true or false, not '" + node.as<std::string>() + "'");
    }
}

long long integer(const YAML::Node& node, const std::string& key, const std::string& origin) {
    if (!node.IsScalar()) bad(origin, node, key, "must be a number");
    try {
        return node.as<long long>();
    } catch (const YAML::Exception&) {
        bad(origin, node, key, "must be a number, not '" + node.as<std::string>() + "'");
    }
}

// A list may be written as a YAML sequence or as one comma-separated string.
std::vector<std::string> list(const YAML::Node& node, const std::string& key,
                              const std::string& origin) {
    if (node.IsScalar()) return split_list(node.as<std::string>());
    if (!node.IsSequence()) bad(origin, node, key, "must be a list of strings");
    std::vector<std::string> out;
    for (const auto& item : node) out.push_back(scalar(item, key, origin));
    return out;
}

template <class Handlers>
void for_each_key(const YAML::Node& map, const std::string& where, const std::string& origin,
                  const Handlers& handlers) {
    if (!map.IsMap()) bad(origin, map, where, "must be a mapping of keys to values");
    for (const auto& entry : map) {
        const std::string key = entry.first.as<std::string>();
        const std::string full = where.empty() ? key : where + "." + key;
        auto it = handlers.find(key);
        if (it == handlers.end()) {
            std::string valid;
            for (const auto& [name, handler] : handlers) valid += (valid.empty() ? "" : ", ") + name;
            throw Error(origin + ":" + std::to_string(entry.first.Mark().line + 1) +
                        ": unknown key '" + full + "' (valid keys: " + valid + ")");
        }
        it->second(entry.second, full);
    }
}

using Handler = std::function<void(const YAML::Node&, const std::string&)>;

Mirror parse_mirror(const YAML::Node& node, const std::string& key, const std::string& origin) {
    Mirror mirror;
    mirror.line = node.Mark().line + 1;
    if (node.IsScalar()) {
        mirror.url = node.as<std::string>();
        return mirror;
    }
    std::map<std::string, Handler> handlers{
        {"url", [&](const YAML::Node& n, const std::string& k) { mirror.url = scalar(n, k, origin); }},
        {"suites", [&](const YAML::Node& n, const std::string& k) { mirror.suites = list(n, k, origin); }},
        {"components", [&](const YAML::Node& n, const std::string& k) { mirror.components = list(n, k, origin); }},
        {"archs", [&](const YAML::Node& n, const std::string& k) { mirror.archs = list(n, k, origin); }},
        {"keyring", [&](const YAML::Node& n, const std::string& k) { mirror.keyring = scalar(n, k, origin); }},
    };
    for_each_key(node, key, origin, handlers);
    if (mirror.url.empty()) bad(origin, node, key, "needs a url");
    return mirror;
}

log::Level level(const YAML::Node& node, const std::string& key, const std::string& origin) {
    auto value = scalar(node, key, origin);
    auto parsed = log::parse_level(value);
    if (!parsed) bad(origin, node, key, "must be one of " + log::level_names() + ", not '" + value + "'");
    return *parsed;
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::string item;
    auto flush = [&] {
        auto b = item.find_first_not_of(" \t");
        auto e = item.find_last_not_of(" \t");
        if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
        item.clear();
    };
    for (char c : text) {
        if (c == ',') flush();
        else item += c;
    }
    flush();
    return out;
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
    return out;
}

std::optional<std::string> real_getenv(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

Settings defaults() {
    Settings s;
    s.cache_dir = user_cache_dir(real_getenv);
    s.image_dir = "images";
    return s;
}

void finalize(Settings& s) {
    if (s.rootfs_dir.empty()) s.rootfs_dir = s.cache_dir / "rootfs";
    if (s.build_dir.empty()) s.build_dir = s.cache_dir / "build";
    if (s.source_dir.empty()) s.source_dir = s.cache_dir / "src";
}

void apply_yaml(Settings& s, const std::string& text, const std::string& origin) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw Error(origin + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML: " + e.msg);
    }
    if (root.IsNull()) return;
    auto str = [&](std::string& field) {
        return [&](const YAML::Node& n, const std::string& k) { field = scalar(n, k, origin); };
    };
    auto path = [&](fs::path& field) {
        return [&](const YAML::Node& n, const std::string& k) { field = scalar(n, k, origin); };
    };
    auto flag = [&](bool& field) {
        return [&](const YAML::Node& n, const std::string& k) { field = boolean(n, k, origin); };
    };
    std::map<std::string, Handler> log_handlers{
        {"out_level", [&](const YAML::Node& n, const std::string& k) { s.log.console = level(n, k, origin); }},
        {"log_level", [&](const YAML::Node& n, const std::string& k) { s.log.file = level(n, k, origin); }},
        {"log_dir", [&](const YAML::Node& n, const std::string& k) { s.log.dir = scalar(n, k, origin); }},
    };
    std::map<std::string, Handler> handlers{
        {"archs", [&](const YAML::Node& n, const std::string& k) { s.archs = list(n, k, origin); }},
        {"dist", str(s.dist)},
        {"mirror", [&](const YAML::Node& n, const std::string& k) { s.mirrors = {parse_mirror(n, k, origin)}; }},
        {"mirrors", [&](const YAML::Node& n, const std::string& k) {
             if (!n.IsSequence()) bad(origin, n, k, "must be a list of mirrors");
             s.mirrors.clear();
             for (const auto& item : n) s.mirrors.push_back(parse_mirror(item, k, origin));
         }},
        {"keyring", str(s.keyring)},
        {"allow_unsigned", flag(s.allow_unsigned)},
        {"registry", str(s.registry)},
        {"insecure_registries", [&](const YAML::Node& n, const std::string& k) { s.insecure_registries = list(n, k, origin); }},
        {"registry_ca", str(s.registry_ca)},
        {"registry_chunk_size", [&](const YAML::Node& n, const std::string& k) {
             s.registry_chunk_size = integer(n, k, origin);
             if (s.registry_chunk_size < 0) bad(origin, n, k, "must be 0 (one request per blob) or a number of bytes");
         }},
        {"registry_retries", [&](const YAML::Node& n, const std::string& k) {
             const auto v = integer(n, k, origin);
             if (v < 0 || v > 20) bad(origin, n, k, "must be between 0 and 20");
             s.registry_retries = static_cast<int>(v);
         }},
        {"registry_user", str(s.registry_user)},
        {"registry_password_file", path(s.registry_password_file)},
        {"namespace", str(s.ns)},
        {"tools", flag(s.tools)},
        {"small", flag(s.small)},
        {"tag", str(s.tag)},
        {"lock_file", path(s.lock_file)},
        {"compression", [&](const YAML::Node& n, const std::string& k) {
             s.compression = scalar(n, k, origin);
             if (s.compression != "gzip" && s.compression != "zstd")
                 bad(origin, n, k, "must be gzip or zstd, not '" + s.compression + "'");
         }},
        {"source_date_epoch", [&](const YAML::Node& n, const std::string& k) { s.source_date_epoch = integer(n, k, origin); }},
        {"jobs", [&](const YAML::Node& n, const std::string& k) {
             s.jobs = static_cast<int>(integer(n, k, origin));
             if (s.jobs < 1 || s.jobs > 64) bad(origin, n, k, "must be between 1 and 64");
         }},
        {"retries", [&](const YAML::Node& n, const std::string& k) {
             s.retries = static_cast<int>(integer(n, k, origin));
             if (s.retries < 0 || s.retries > 20) bad(origin, n, k, "must be between 0 and 20");
         }},
        {"sourcedir", path(s.source_dir)},
        {"rootfsdir", path(s.rootfs_dir)},
        {"builddir", path(s.build_dir)},
        {"imagedir", path(s.image_dir)},
        {"cachedir", path(s.cache_dir)},
        {"plugin_dirs", [&](const YAML::Node& n, const std::string& k) {
             for (const auto& dir : list(n, k, origin)) s.plugin_dirs.emplace_back(dir);
         }},
        {"log", [&](const YAML::Node& n, const std::string& k) { for_each_key(n, k, origin, log_handlers); }},
        {"templates", [&](const YAML::Node& n, const std::string& k) {
             if (!n.IsMap()) bad(origin, n, k, "must map template names to their options");
             for (const auto& tmpl : n) {
                 const auto name = tmpl.first.as<std::string>();
                 const auto where = k + "." + name;
                 if (!tmpl.second.IsMap()) bad(origin, tmpl.second, where, "must be a mapping of options");
                 for (const auto& option : tmpl.second)
                     s.template_options[name][option.first.as<std::string>()] =
                         scalar(option.second, where + "." + option.first.as<std::string>(), origin);
             }
         }},
    };
    for_each_key(root, "", origin, handlers);
}

void apply_file(Settings& s, const fs::path& file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec))
        throw Error("config file " + file.string() + " does not exist; pass an existing file to --config");
    std::string text;
    {
        FILE* f = std::fopen(file.c_str(), "rb");
        if (f == nullptr) throw Error("cannot read config file " + file.string());
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
        std::fclose(f);
    }
    apply_yaml(s, text, file.string());
    s.config_file = file;
}

void apply_environment(Settings& s, Getenv getenv) {
    auto level = [&](const char* var, log::Level& field) {
        if (auto v = getenv(var); v && !v->empty()) {
            auto parsed = log::parse_level(*v);
            if (!parsed)
                throw UsageError(std::string(var) + "='" + *v + "' is not a level; use one of " +
                                 log::level_names());
            field = *parsed;
        }
    };
    auto text = [&](const char* var, std::string& field) {
        if (auto v = getenv(var); v && !v->empty()) field = *v;
    };
    auto path = [&](const char* var, fs::path& field) {
        if (auto v = getenv(var); v && !v->empty()) field = *v;
    };
    if (auto v = getenv("DMC_ARCHS"); v && !v->empty()) s.archs = split_list(*v);
    text("DMC_DIST", s.dist);
    if (auto v = getenv("DMC_MIRROR"); v && !v->empty()) s.mirrors = {mirror_of(*v)};
    text("DMC_HOST", s.registry);
    if (auto v = getenv("DMC_INSECURE_REGISTRIES"); v && !v->empty()) s.insecure_registries = split_list(*v);
    text("DMC_REGISTRY_CA", s.registry_ca);
    if (auto v = getenv("DMC_REGISTRY_CHUNK_SIZE"); v && !v->empty()) {
        try {
            s.registry_chunk_size = std::stoll(*v);
        } catch (const std::exception&) {
            s.registry_chunk_size = -1;
        }
        if (s.registry_chunk_size < 0)
            throw UsageError("DMC_REGISTRY_CHUNK_SIZE='" + *v + "' is not a number of bytes");
    }
    if (auto v = getenv("DMC_REGISTRY_RETRIES"); v && !v->empty()) {
        int retries = -1;
        try {
            retries = std::stoi(*v);
        } catch (const std::exception&) {
        }
        if (retries < 0 || retries > 20)
            throw UsageError("DMC_REGISTRY_RETRIES='" + *v + "' is not a number from 0 to 20");
        s.registry_retries = retries;
    }
    text("DMC_REGISTRY_USER", s.registry_user);
    text("DMC_REGISTRY_PASSWORD", s.registry_password);
    path("DMC_REGISTRY_PASSWORD_FILE", s.registry_password_file);
    text("DMC_NAMESPACE", s.ns);
    if (auto v = getenv("DMC_TOOLS"); v && !v->empty()) s.tools = (*v != "0");
    path("DMC_SOURCEDIR", s.source_dir);
    path("DMC_ROOTFSDIR", s.rootfs_dir);
    path("DMC_BUILDDIR", s.build_dir);
    path("DMC_CACHEDIR", s.cache_dir);
    path("DMC_LOCK_FILE", s.lock_file);
    if (auto v = getenv("DMC_RETRIES"); v && !v->empty()) {
        try {
            s.retries = std::stoi(*v);
        } catch (const std::exception&) {
            s.retries = -1;
        }
        if (s.retries < 0 || s.retries > 20)
            throw UsageError("DMC_RETRIES='" + *v + "' must be a number from 0 to 20");
    }
    path("IMAGEDIR", s.image_dir);
    path("DMC_IMAGEDIR", s.image_dir);
    if (auto v = getenv("DMC_PLUGIN_PATH"); v && !v->empty()) {
        std::vector<fs::path> dirs;
        std::string item;
        for (char c : *v + ":") {
            if (c == ':') {
                if (!item.empty()) dirs.emplace_back(item);
                item.clear();
            } else {
                item += c;
            }
        }
        // DMC_PLUGIN_PATH comes before the config file's plugin_dirs.
        dirs.insert(dirs.end(), s.plugin_dirs.begin(), s.plugin_dirs.end());
        s.plugin_dirs = dirs;
    }
    if (auto v = getenv("SOURCE_DATE_EPOCH"); v && !v->empty()) {
        try {
            s.source_date_epoch = std::stoll(*v);
        } catch (const std::exception&) {
            throw UsageError("SOURCE_DATE_EPOCH='" + *v + "' is not a number of seconds");
        }
    }
    level("OUT_level", s.log.console);
    level("LOG_level", s.log.file);
    if (auto v = getenv("LOG_dir"); v && !v->empty()) s.log.dir = fs::path(*v);
}

std::optional<fs::path> default_config_file(Getenv getenv) {
    if (auto v = getenv("DMC_CONFIG"); v && !v->empty()) return fs::path(*v);
    std::vector<fs::path> candidates;
    if (auto xdg = getenv("XDG_CONFIG_HOME"); xdg && !xdg->empty())
        candidates.push_back(fs::path(*xdg) / "dmc" / "dmc.yaml");
    else if (auto home = getenv("HOME"); home && !home->empty())
        candidates.push_back(fs::path(*home) / ".config" / "dmc" / "dmc.yaml");
    candidates.emplace_back("/etc/dmc/dmc.yaml");
    std::error_code ec;
    for (const auto& c : candidates)
        if (fs::is_regular_file(c, ec)) return c;
    return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> Settings::describe() const {
    std::vector<std::string> mirror_urls;
    for (const auto& m : mirrors) mirror_urls.push_back(m.url);
    std::vector<std::string> dirs;
    for (const auto& d : plugin_dirs) dirs.push_back(d.string());
    return {
        {"config", config_file ? config_file->string() : "(none)"},
        {"archs", join(archs)},
        {"dist", dist},
        {"mirrors", mirrors.empty() ? "(from the host's apt sources)" : join(mirror_urls)},
        {"registry", registry.empty() ? "(none)" : registry},
        {"insecure_registries", join(insecure_registries)},
        {"registry_ca", registry_ca},
        {"registry_chunk_size", std::to_string(registry_chunk_size)},
        {"registry_user", registry_user},
        {"namespace", ns},
        {"tools", tools ? "yes" : "no"},
        {"cachedir", cache_dir.string()},
        {"rootfsdir", rootfs_dir.string()},
        {"builddir", build_dir.string()},
        {"imagedir", image_dir.string()},
        {"plugin_dirs", join(dirs)},
        {"OUT_level", std::string(log::level_name(log.console))},
        {"LOG_level", std::string(log::level_name(log.file))},
    };
}

}  // namespace dmc::config
