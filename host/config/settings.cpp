#include "config/settings.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "util/error.hpp"
#include "util/name.hpp"
#include "util/text.hpp"
#include "util/yaml.hpp"

namespace fs = std::filesystem;

namespace dmc::config {
namespace {

// One value on its way into the settings, and where it came from, for messages.
struct Input {
    enum class From { file, environment, option };
    From from = From::file;
    std::string origin;                             // "dmc.yaml:3: key 'jobs'", "DMC_RETRIES", "-D"
    std::string file;                               // the config file, for structured settings
    std::string text;                               // a scalar
    std::optional<std::vector<std::string>> items;  // a YAML sequence of scalars
    const YAML::Node* node = nullptr;               // the YAML node itself, for structured settings
    bool nested = false;                            // a sequence holding more than scalars

    // A bad value: an error in the config file exits 1, a usage error exits 2.
    [[noreturn]] void refuse(const std::string& what, std::string_view value) const {
        if (from == From::file)
            throw Error(origin + " must be " + what + ", not " + quote_value(value));
        throw UsageError(origin + "=" + quote_value(value) + " must be " + what);
    }
    [[noreturn]] void refuse(const std::string& what) const { refuse(what, text); }
};

// The one parser of each kind of value, whatever the source.
std::string text_value(const Input& in) {
    if (in.items) in.refuse("a string", "[" + join(*in.items, ", ") + "]");
    if (control_character(in.text)) in.refuse("a value without control characters");
    return in.text;
}

std::string name_value(const Input& in, std::string_view what) {
    std::string value = text_value(in);
    if (auto why = unsafe_name(value)) in.refuse(std::string(what) + " (" + *why + ")", value);
    return value;
}

bool flag_value(const Input& in) {
    const std::string value = lower(text_value(in));
    if (value == "true" || value == "yes" || value == "on" || value == "1") return true;
    if (value == "false" || value == "no" || value == "off" || value == "0") return false;
    in.refuse("true or false");
}

long long integer_value(const Input& in, long long min, long long max) {
    const std::string value = text_value(in);
    const std::string what =
        "a number between " + std::to_string(min) + " and " + std::to_string(max);
    long long n = 0;
    const char* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, n);
    if (value.empty() || ec != std::errc() || ptr != end || n < min || n > max) in.refuse(what);
    return n;
}

// A list: a YAML sequence, or a comma-separated string from anywhere. Repeats are
// dropped, the first one kept: -A amd64,amd64 and archs: [amd64, amd64] are one arch.
std::vector<std::string> list_value(
    const Input& in, const std::function<void(const Input&, const std::string&)>& check) {
    std::vector<std::string> raw = in.items ? *in.items : split_list(in.text);
    std::vector<std::string> out;
    for (const auto& item : raw) {
        Input one = in;
        one.items.reset();
        one.text = item;
        if (check)
            check(one, item);
        else
            text_value(one);
        if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
    }
    return out;
}

fs::path path_value(const Input& in) { return text_value(in); }

log::Level level_value(const Input& in) {
    const std::string value = text_value(in);
    auto parsed = log::parse_level(value);
    if (!parsed) in.refuse("one of " + log::level_names());
    return *parsed;
}

// Mirror URLs: the schemes dmc fetches, refused at once otherwise.
std::string url_value(const Input& in) {
    std::string value = text_value(in);
    if (auto why = unsupported_url(value)) in.refuse(*why, value);
    return value;
}

// OCI's tag grammar: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
std::string tag_value(const Input& in) {
    std::string value = text_value(in);
    bool ok = !value.empty() && value.size() <= 128 && value.front() != '.' && value.front() != '-';
    for (char c : value)
        ok =
            ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
    if (!ok)
        in.refuse("an image tag (letters, digits, _ . -, not starting with . or -, at most 128)",
                  value);
    return value;
}

[[noreturn]] void bad_node(const std::string& origin, const YAML::Node& node,
                           const std::string& key, const std::string& what) {
    yaml_error(origin, node, key, what);
}

// What a config file node holds, as an Input for the parsers above.
Input file_input(const std::string& origin, const std::string& key, const YAML::Node& node) {
    Input in;
    in.from = Input::From::file;
    in.file = origin;
    in.origin = origin + ":" + std::to_string(node.Mark().line + 1) + ": key '" + key + "'";
    in.node = &node;
    if (node.IsScalar()) {
        in.text = node.as<std::string>();
    } else if (node.IsNull()) {
        in.text = "";
    } else if (node.IsSequence()) {
        in.items.emplace();
        for (const auto& item : node) {
            if (item.IsScalar())
                in.items->push_back(item.as<std::string>());
            else
                in.nested = true;
        }
    }
    return in;
}

void require_scalar_or_list(const Input& in, const std::string& origin, const std::string& key,
                            bool list) {
    if (in.node == nullptr) return;
    const YAML::Node& n = *in.node;
    if (list && !(n.IsScalar() || n.IsSequence() || n.IsNull()))
        bad_node(origin, n, key, "must be a list of strings");
    if (!list && !(n.IsScalar() || n.IsNull() || n.IsSequence()))
        bad_node(origin, n, key, "must be a string");
}

Mirror mirror_value(const Input& in, const std::string& key, const std::string& origin) {
    Mirror mirror;
    if (in.node == nullptr || in.node->IsScalar()) {
        mirror.url = url_value(in);
        if (in.node) mirror.line = in.node->Mark().line + 1;
        return mirror;
    }
    const YAML::Node& node = *in.node;
    mirror.line = node.Mark().line + 1;
    for_each_entry(
        node, key, origin, [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
            const std::string full = key + "." + k;
            Input sub = file_input(origin, full, v);
            if (sub.nested || v.IsMap())
                bad_node(origin, v, full, "must be a string or a list of strings");
            auto names = [&](std::vector<std::string>& field) {
                require_scalar_or_list(sub, origin, full, true);
                field = list_value(sub, [](const Input& i, const std::string&) {
                    name_value(i, "a suite, component or arch name");
                });
            };
            if (k == "url") {
                require_scalar_or_list(sub, origin, full, false);
                mirror.url = url_value(sub);
            } else if (k == "suites") {
                require_scalar_or_list(sub, origin, full, true);
                // "{dist}" stands for the dist; the rest of a suite is a name like any other.
                mirror.suites = list_value(sub, [](const Input& i, const std::string& s) {
                    std::string probe = s;
                    if (auto at = probe.find("{dist}"); at != std::string::npos)
                        probe.replace(at, 6, "dist");
                    Input p = i;
                    p.text = probe;
                    name_value(p, "a suite name");
                });
            } else if (k == "components") {
                names(mirror.components);
            } else if (k == "archs") {
                names(mirror.archs);
            } else if (k == "keyring") {
                require_scalar_or_list(sub, origin, full, false);
                mirror.keyring = text_value(sub);
            } else {
                unknown_yaml_key(origin, v, full, "archs, components, keyring, suites, url");
            }
        });
    if (mirror.url.empty()) bad_node(origin, node, key, "needs a url");
    return mirror;
}

// One row of the table: how a setting is read from each source and shown.
struct Row {
    SettingInfo info;
    bool list = false;        // takes a YAML sequence as well as a comma-separated string
    bool structured = false;  // reads the YAML node itself (mirrors, templates)
    std::function<void(Settings&, const Input&)> set;
    std::function<std::string(const Settings&)> show;  // empty: never shown (a secret)
};

std::string yes_no(bool b) { return b ? "yes" : "no"; }

std::vector<std::string> path_strings(const std::vector<fs::path>& paths) {
    std::vector<std::string> out;
    for (const auto& p : paths) out.push_back(p.string());
    return out;
}

// Every setting of dmc, described once: this table drives the config file, the
// environment, the command line's values, validation and the log's settings lines.
const std::vector<Row>& table() {
    using S = Settings;
    static const std::vector<Row> rows = [] {
        std::vector<Row> r;
        auto add = [&](SettingInfo info, auto set, auto show, bool list = false) {
            Row row;
            row.info = std::move(info);
            row.list = list;
            row.set = set;
            row.show = show;
            r.push_back(std::move(row));
        };
        // The common kinds, a row each from the field they set.
        auto text = [&](SettingInfo info, std::string S::*field) {
            add(
                std::move(info), [field](S& s, const Input& in) { s.*field = text_value(in); },
                [field](const S& s) { return s.*field; });
        };
        auto path = [&](SettingInfo info, fs::path S::*field) {
            add(
                std::move(info), [field](S& s, const Input& in) { s.*field = path_value(in); },
                [field](const S& s) { return (s.*field).string(); });
        };
        auto flag = [&](SettingInfo info, bool S::*field) {
            add(
                std::move(info), [field](S& s, const Input& in) { s.*field = flag_value(in); },
                [field](const S& s) { return yes_no(s.*field); });
        };
        auto integer = [&](SettingInfo info, int S::*field, int min, int max,
                           const std::string& unit = "") {
            add(
                std::move(info),
                [field, min, max](S& s, const Input& in) {
                    s.*field = static_cast<int>(integer_value(in, min, max));
                },
                [field, unit](const S& s) { return std::to_string(s.*field) + unit; });
        };
        add(
            {"archs", {"DMC_ARCHS"}, "-A", "architectures to build for"},
            [](S& s, const Input& in) {
                s.archs = list_value(in, [](const Input& i, const std::string&) {
                    name_value(i, "an architecture name");
                });
                if (s.archs.empty()) in.refuse("at least one architecture", "");
            },
            [](const S& s) { return join(s.archs); }, true);
        add(
            {"dist", {"DMC_DIST"}, "-D", "Debian or Ubuntu suite"},
            [](S& s, const Input& in) { s.dist = name_value(in, "a suite name"); },
            [](const S& s) { return s.dist; });
        {
            Row row;
            row.info = {"mirrors", {"DMC_MIRROR"}, "-M", "archive sources"};
            row.structured = true;
            row.set = [](S& s, const Input& in) {
                if (in.node == nullptr || in.node->IsScalar()) {
                    s.mirrors = {mirror_value(in, "mirrors", "")};
                    return;
                }
                if (!in.node->IsSequence()) in.refuse("a list of mirrors", "(a mapping)");
                const std::string& origin = in.file;
                s.mirrors.clear();
                for (const auto& item : *in.node) {
                    Input one = file_input(origin, "mirrors", item);
                    s.mirrors.push_back(mirror_value(one, "mirrors", origin));
                }
            };
            row.show = [](const S& s) {
                std::vector<std::string> urls;
                for (const auto& m : s.mirrors) urls.push_back(m.url);
                return s.mirrors.empty() ? "(from the host's apt sources)" : join(urls);
            };
            r.push_back(row);
            // `mirror:` is one mirror, as a URL or a mapping.
            row.info = {"mirror", {}, "", "one archive source"};
            row.set = [](S& s, const Input& in) {
                const std::string& origin = in.file;
                s.mirrors = {mirror_value(in, "mirror", origin)};
            };
            row.show = nullptr;
            r.push_back(row);
        }
        text({"keyring", {}, "", "keyring of the archive's Release files"}, &S::keyring);
        flag({"allow_unsigned", {}, "--allow-unsigned", "accept unsigned indexes"},
             &S::allow_unsigned);
        add(
            {"registry", {"DMC_HOST"}, "-H", "registry to push to"},
            [](S& s, const Input& in) { s.registry = text_value(in); },
            [](const S& s) { return s.registry.empty() ? std::string("(none)") : s.registry; });
        add(
            {"insecure_registries",
             {"DMC_INSECURE_REGISTRIES"},
             "",
             "registries spoken to over HTTP"},
            [](S& s, const Input& in) { s.insecure_registries = list_value(in, nullptr); },
            [](const S& s) { return join(s.insecure_registries); }, true);
        text({"registry_ca", {"DMC_REGISTRY_CA"}, "", "CA bundle of the registry"},
             &S::registry_ca);
        add(
            {"registry_chunk_size", {"DMC_REGISTRY_CHUNK_SIZE"}, "", "bytes per upload chunk"},
            [](S& s, const Input& in) { s.registry_chunk_size = integer_value(in, 0, 1LL << 40); },
            [](const S& s) { return std::to_string(s.registry_chunk_size); });
        integer(
            {"registry_retries", {"DMC_REGISTRY_RETRIES"}, "", "extra attempts at the registry"},
            &S::registry_retries, 0, 20);
        text({"registry_user", {"DMC_REGISTRY_USER"}, "", "registry user"}, &S::registry_user);
        // The password has no config key, so it stays out of files that get shared,
        // and it is never shown.
        add(
            {"", {"DMC_REGISTRY_PASSWORD"}, "", "registry password"},
            [](S& s, const Input& in) { s.registry_password = text_value(in); }, nullptr);
        path({"registry_password_file",
              {"DMC_REGISTRY_PASSWORD_FILE"},
              "",
              "file with the registry password"},
             &S::registry_password_file);
        // Where the signing key is, shown; the key itself is read only by the sign step.
        add(
            {"sign_key", {"DMC_SIGN_KEY"}, "--sign", "key that signs pushed images"},
            [](S& s, const Input& in) {
                s.sign_key = text_value(in);
                if (s.sign_key.starts_with("env://") && s.sign_key.size() == 6)
                    in.refuse("a key file, or env://VARIABLE", s.sign_key);
            },
            [](const S& s) { return s.sign_key.empty() ? std::string("(none)") : s.sign_key; });
        path({"key", {"DMC_KEY"}, "--key", "key pair of keygen, public key of verify"}, &S::key);
        add(
            {"namespace", {"DMC_NAMESPACE"}, "-N", "Kubernetes namespace"},
            [](S& s, const Input& in) {
                // A DNS-1123 label, as Kubernetes wants it; empty leaves it to the context.
                s.ns = text_value(in);
                const bool label =
                    s.ns.size() <= 63 &&
                    s.ns.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") ==
                        std::string::npos &&
                    (s.ns.empty() || (s.ns.front() != '-' && s.ns.back() != '-'));
                if (!label)
                    in.refuse("a namespace name (lower-case letters, digits and '-', at most 63)",
                              s.ns);
            },
            [](const S& s) {
                return s.ns.empty() ? std::string("(the context's, else default)") : s.ns;
            });
        path({"kubeconfig", {"DMC_KUBECONFIG"}, "--kubeconfig", "kubeconfig file"}, &S::kubeconfig);
        text({"context", {"DMC_CONTEXT"}, "--context", "kubeconfig context"}, &S::kube_context);
        integer({"rollout_timeout",
                 {"DMC_ROLLOUT_TIMEOUT"},
                 "",
                 "seconds to wait for a deployment to roll out"},
                &S::rollout_timeout, 1, 86400, " s");
        integer({"build_timeout",
                 {"DMC_BUILD_TIMEOUT"},
                 "",
                 "seconds a step of a build from source may take"},
                &S::build_timeout, 1, 86400, " s");
        text({"source_keyring",
              {"DMC_SOURCE_KEYRING"},
              "",
              "keyring of source packages' signatures (.dsc)"},
             &S::source_keyring);
        flag({"force_conflicts", {}, "--force-conflicts", "take over fields other managers own"},
             &S::force_conflicts);
        flag(
            {"deploy", {"DMC_DEPLOY"}, "", "create deploys after its push to a configured cluster"},
            &S::deploy);
        flag({"tools", {"DMC_TOOLS"}, "-T", "debugging tools in the image"}, &S::tools);
        flag({"small", {}, "--small", "small images"}, &S::small);
        flag({"docker_archive",
              {"DMC_DOCKER_ARCHIVE"},
              "",
              "a docker archive (docker/podman load) per image besides its OCI layout"},
             &S::docker_archive);
        flag({"keep_trees",
              {"DMC_KEEP_TREES"},
              "",
              "keep each image's rootfs tree whole after it is packed (otherwise only the "
              "image's files stay, and the rest is placed again when a build needs it)"},
             &S::keep_trees);
        add(
            {"tag", {}, "", "image tag"}, [](S& s, const Input& in) { s.tag = tag_value(in); },
            [](const S& s) { return s.tag; });
        add(
            {"lock_file", {"DMC_LOCK_FILE"}, "", "the lock: every image's exact packages"},
            [](S& s, const Input& in) { s.lock_file = path_value(in); },
            [](const S& s) {
                return s.lock_file.empty() ? std::string("(next to the config file)")
                                           : s.lock_file.string() + (s.use_lock ? "" : " (unused)");
            });
        add(
            {"snapshot_url", {"DMC_SNAPSHOT_URL"}, "", "a snapshot service of the archive"},
            [](S& s, const Input& in) {
                s.snapshot_url = text_value(in);
                if (auto why = unsupported_url(s.snapshot_url)) in.refuse(*why, s.snapshot_url);
                while (s.snapshot_url.ends_with('/')) s.snapshot_url.pop_back();
            },
            [](const S& s) {
                return s.snapshot_url.empty() ? std::string("(none)") : s.snapshot_url;
            });
        add(
            {"snapshot", {"DMC_SNAPSHOT"}, "--snapshot", "read the mirrors as they were then"},
            [](S& s, const Input& in) {
                // 20250520T000000Z, or the day alone: 20250520.
                std::string d = text_value(in);
                if (d.size() == 8) d += "T000000Z";
                bool ok = d.size() == 16 && d[8] == 'T' && d[15] == 'Z';
                for (std::size_t i = 0; ok && i < 15; ++i)
                    ok = i == 8 || std::isdigit(static_cast<unsigned char>(d[i]));
                if (!ok) in.refuse("a date as 20250520T000000Z or 20250520", text_value(in));
                s.snapshot = d;
            },
            [](const S& s) { return s.snapshot.empty() ? std::string("(none)") : s.snapshot; });
        add(
            {"compression", {}, "", "layer compression"},
            [](S& s, const Input& in) {
                s.compression = text_value(in);
                if (s.compression != "gzip" && s.compression != "zstd") in.refuse("gzip or zstd");
            },
            [](const S& s) { return s.compression; });
        add(
            {"source_date_epoch", {"SOURCE_DATE_EPOCH"}, "", "image timestamp"},
            [](S& s, const Input& in) {
                s.source_date_epoch = integer_value(in, 0, 253402300799LL);
            },
            [](const S& s) {
                return s.source_date_epoch ? std::to_string(*s.source_date_epoch)
                                           : std::string("(from the packages)");
            });
        integer({"jobs", {}, "", "parallel downloads"}, &S::jobs, 1, 64);
        integer({"retries", {"DMC_RETRIES"}, "", "extra download attempts"}, &S::retries, 0, 20);
        integer({"retry_time",
                 {"DMC_RETRY_TIME"},
                 "",
                 "seconds after which a failing download is not tried again"},
                &S::retry_time, 1, 3600, " s");
        integer({"stall_timeout",
                 {"DMC_STALL_TIMEOUT"},
                 "",
                 "seconds without a byte before a download attempt is abandoned"},
                &S::stall_timeout, 1, 600, " s");
        path({"cachedir", {"DMC_CACHEDIR"}, "", "cache directory"}, &S::cache_dir);
        path({"rootfsdir", {"DMC_ROOTFSDIR"}, "", "unpacked packages"}, &S::rootfs_dir);
        path({"builddir", {"DMC_BUILDDIR"}, "", "task outputs"}, &S::build_dir);
        path({"sourcedir", {"DMC_SOURCEDIR"}, "", "sources"}, &S::source_dir);
        path({"imagedir", {"IMAGEDIR", "DMC_IMAGEDIR"}, "--imagedir", "image outputs"},
             &S::image_dir);
        add(
            {"plugin_dirs", {"DMC_PLUGIN_PATH"}, "--plugin-dir", "template plugin directories"},
            [](S& s, const Input& in) {
                // --plugin-dir is one directory and DMC_PLUGIN_PATH is colon-separated;
                // both come before the file's plugin_dirs.
                std::vector<fs::path> dirs;
                if (in.from == Input::From::option) {
                    dirs.push_back(path_value(in));
                    dirs.insert(dirs.end(), s.plugin_dirs.begin(), s.plugin_dirs.end());
                } else if (in.from == Input::From::environment) {
                    std::string item;
                    for (char c : in.text + ":") {
                        if (c != ':') {
                            item += c;
                            continue;
                        }
                        if (!item.empty()) {
                            Input one = in;
                            one.text = item;
                            dirs.push_back(path_value(one));
                        }
                        item.clear();
                    }
                    dirs.insert(dirs.end(), s.plugin_dirs.begin(), s.plugin_dirs.end());
                } else {
                    for (const auto& d : list_value(in, nullptr)) dirs.emplace_back(d);
                }
                s.plugin_dirs = dirs;
            },
            [](const S& s) { return join(path_strings(s.plugin_dirs)); }, true);
        add(
            {"log.out_level", {"OUT_level"}, "", "console log level"},
            [](S& s, const Input& in) { s.log.console = level_value(in); },
            [](const S& s) { return std::string(log::level_name(s.log.console)); });
        add(
            {"log.log_level", {"LOG_level"}, "", "log file level"},
            [](S& s, const Input& in) { s.log.file = level_value(in); },
            [](const S& s) { return std::string(log::level_name(s.log.file)); });
        add(
            {"log.log_dir", {"LOG_dir"}, "", "log file directory"},
            [](S& s, const Input& in) { s.log.dir = path_value(in); },
            [](const S& s) { return s.log.dir ? s.log.dir->string() : std::string("(none)"); });
        add(
            {"log.keep", {"LOG_keep"}, "", "log files kept in log_dir (0: all)"},
            [](S& s, const Input& in) {
                s.log.keep = static_cast<int>(integer_value(in, 0, 100000));
            },
            [](const S& s) { return std::to_string(s.log.keep); });
        {
            Row row;
            row.info = {"templates", {}, "", "options of the templates' hooks"};
            row.structured = true;
            row.set = [](S& s, const Input& in) {
                const std::string& origin = in.file;
                if (in.node == nullptr || !in.node->IsMap())
                    bad_node(origin, in.node ? *in.node : YAML::Node(), "templates",
                             "must map template names to their options");
                for_each_entry(
                    *in.node, "templates", origin,
                    [&](const std::string& name, const YAML::Node&, const YAML::Node& options) {
                        const std::string where = "templates." + name;
                        if (auto why = unsafe_name(name))
                            bad_node(origin, options, where, "is not a template name: " + *why);
                        if (!options.IsMap())
                            bad_node(origin, options, where, "must be a mapping of options");
                        for_each_entry(
                            options, where, origin,
                            [&](const std::string& option, const YAML::Node&,
                                const YAML::Node& value) {
                                const std::string key = where + "." + option;
                                Input one = file_input(origin, key, value);
                                if (!value.IsScalar())
                                    bad_node(origin, value, key, "must be a string");
                                if (unsafe_name(option) || option.find('.') != std::string::npos)
                                    bad_node(origin, value, key,
                                             "is not an option name (letters, "
                                             "digits and _ + ~ -)");
                                s.template_options[name][option] = text_value(one);
                                s.template_option_origins[name + "." + option] =
                                    origin + ":" + std::to_string(value.Mark().line + 1);
                            });
                    });
            };
            row.show = [](const S& s) {
                std::vector<std::string> out;
                for (const auto& [t, options] : s.template_options)
                    for (const auto& [k, v] : options) out.push_back(t + "." + k + "=" + v);
                return join(out, " ");
            };
            r.push_back(row);
        }
        return r;
    }();
    return rows;
}

const Row& row_of(std::string_view key) {
    for (const auto& row : table())
        if (row.info.key == key) return row;
    throw std::logic_error("no setting '" + std::string(key) + "'");
}

fs::path user_cache_dir(Getenv getenv) {
    if (auto xdg = getenv("XDG_CACHE_HOME"); xdg && !xdg->empty()) return fs::path(*xdg) / "dmc";
    if (auto home = getenv("HOME"); home && !home->empty())
        return fs::path(*home) / ".cache" / "dmc";
    return fs::temp_directory_path() / "dmc-cache";
}

}  // namespace

std::optional<std::string> unsupported_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0)
        return "a URL such as http://host/debian (it has no scheme)";
    const std::string scheme = lower(url.substr(0, scheme_end));
    if (scheme != "http" && scheme != "https" && scheme != "file")
        return "an http://, https:// or file:// URL (dmc does not fetch " + scheme + "://)";
    if (url.size() == scheme_end + 3) return "a URL with a host or a path";
    return std::nullopt;
}

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
        if (c == ',')
            flush();
        else
            item += c;
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

std::vector<SettingInfo> setting_infos() {
    std::vector<SettingInfo> out;
    for (const auto& row : table()) out.push_back(row.info);
    return out;
}

Settings defaults() {
    Settings s;
    s.cache_dir = user_cache_dir(real_getenv);
    s.image_dir = "images";
    return s;
}

std::string default_text(std::string_view key) {
    const Row& row = row_of(key);
    return row.show ? row.show(defaults()) : "";
}

void finalize(Settings& s) {
    if (s.rootfs_dir.empty()) s.rootfs_dir = s.cache_dir / "rootfs";
    if (s.build_dir.empty()) s.build_dir = s.cache_dir / "build";
    if (s.source_dir.empty()) s.source_dir = s.cache_dir / "src";
}

void apply_yaml(Settings& s, const std::string& text, const std::string& origin) {
    const YAML::Node root = load_yaml(text, origin);
    if (root.IsNull()) return;
    std::function<void(const YAML::Node&, const std::string&)> apply_map =
        [&](const YAML::Node& map, const std::string& where) {
            for_each_entry(
                map, where, origin,
                [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& value) {
                    const std::string full = where.empty() ? key : where + "." + key;
                    const Row* row = nullptr;
                    bool prefix = false;
                    std::vector<std::string> valid;
                    for (const auto& candidate : table()) {
                        const std::string& k = candidate.info.key;
                        if (k.empty()) continue;
                        if (k == full) row = &candidate;
                        if (k.rfind(full + ".", 0) == 0) prefix = true;
                        const std::string parent = where.empty() ? "" : where + ".";
                        if (k.rfind(parent, 0) == 0) {
                            std::string child = k.substr(parent.size());
                            child = child.substr(0, child.find('.'));
                            if (std::find(valid.begin(), valid.end(), child) == valid.end())
                                valid.push_back(child);
                        }
                    }
                    if (row == nullptr && prefix) return apply_map(value, full);
                    if (row == nullptr) {
                        std::sort(valid.begin(), valid.end());
                        unknown_yaml_key(origin, key_node, full, join(valid, ", "));
                    }
                    Input in = file_input(origin, full, value);
                    if (!row->structured) {
                        if (value.IsMap())
                            bad_node(origin, value, full,
                                     row->list ? "must be a list of strings" : "must be a string");
                        if (value.IsSequence() && !row->list)
                            bad_node(origin, value, full, "must be a string");
                        if (in.nested) bad_node(origin, value, full, "must be a list of strings");
                    }
                    row->set(s, in);
                });
        };
    apply_map(root, "");
}

void apply_file(Settings& s, const fs::path& file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec))
        throw Error("config file " + file.string() +
                    " does not exist; pass an existing file to --config");
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
    for (const auto& row : table()) {
        for (const auto& var : row.info.env) {
            auto value = getenv(var.c_str());
            if (!value || value->empty()) continue;
            Input in;
            in.from = Input::From::environment;
            in.origin = var;
            in.text = *value;
            row.set(s, in);
        }
    }
}

void apply_option(Settings& s, std::string_view key, const std::string& text) {
    const Row& row = row_of(key);
    Input in;
    in.from = Input::From::option;
    in.origin = "option " + row.info.option;
    in.text = text;
    row.set(s, in);
}

std::vector<DirectorySetting> directories(const Settings& s) {
    std::vector<DirectorySetting> out;
    for (const auto& [key, dir] :
         std::vector<std::pair<std::string, fs::path>>{{"cachedir", s.cache_dir},
                                                       {"rootfsdir", s.rootfs_dir},
                                                       {"builddir", s.build_dir},
                                                       {"sourcedir", s.source_dir},
                                                       {"imagedir", s.image_dir}})
        out.push_back({row_of(key).info, dir});
    return out;
}

std::string setting_name(const SettingInfo& setting) {
    std::vector<std::string> ways;
    if (!setting.option.empty()) ways.push_back(setting.option);
    for (const auto& var : setting.env) ways.push_back(var);
    return setting.key + (ways.empty() ? "" : " (" + join(ways, ", ") + ")");
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

fs::path default_lock_file(const Settings& s, Getenv getenv) {
    if (s.config_file) {
        auto lock = *s.config_file;
        return lock.replace_extension(".lock");
    }
    if (auto xdg = getenv("XDG_CONFIG_HOME"); xdg && !xdg->empty())
        return fs::path(*xdg) / "dmc" / "dmc.lock";
    if (auto home = getenv("HOME"); home && !home->empty())
        return fs::path(*home) / ".config" / "dmc" / "dmc.lock";
    return fs::current_path() / "dmc.lock";
}

std::vector<std::pair<std::string, std::string>> Settings::describe() const {
    std::vector<std::pair<std::string, std::string>> out{
        {"config", config_file ? config_file->string() : "(none)"}};
    for (const auto& row : table()) {
        if (!row.show || row.info.key.empty()) continue;
        out.emplace_back(row.info.key, row.show(*this));
    }
    return out;
}

}  // namespace dmc::config
