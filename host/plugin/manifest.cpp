#include "plugin/manifest.hpp"

#include <array>
#include <dmc/sdk.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"
#include "util/yaml.hpp"

namespace fs = std::filesystem;

namespace dmc::plugin {
namespace {

struct Owned {  // a path with a mode and an owner, or a file's content
    std::string path, source, content, owner, target;
    bool has_content = false;
    std::optional<std::uint32_t> mode;
};

struct Account {
    std::string name, home, shell;
    std::uint32_t uid = 0, gid = 0;
};

// A Kubernetes object the deploy hook makes through the SDK's builders.
struct Workload {
    std::string kind;  // "deployment", "stateful_set"
    std::string name, component, claim, size;
    int replicas = 1;
    std::vector<sdk::kube::Container> containers;
};
struct ConfigMapSpec {
    std::string name, component;
    std::vector<std::pair<std::string, Owned>> data;  // key -> source file or content
};
struct ServiceSpec {
    std::string name, component;
    std::vector<std::pair<std::string, int>> ports;
};
struct SecretSpec {
    std::string name;
    std::vector<std::string> keys;
};

struct Model {
    fs::path file;
    std::string name, version, group, description;
    std::vector<std::string> builds_on;
    std::vector<const char*> builds_on_c;
    std::vector<std::array<std::string, 3>> options;  // name, default, description
    std::vector<dmc_option> options_c;
    bool takes_any_option = true;

    std::vector<std::string> packages, exclude, want;
    std::vector<std::pair<std::string, std::string>> alternatives;

    std::vector<std::string> paths, globs, dlopened, allow_missing, package_files, allow_setid;

    std::vector<std::string> system_users, remove, expose, volumes;
    std::vector<Account> groups, users;
    std::vector<Owned> dirs, files, copies, symlinks;
    std::optional<std::vector<std::string>> entrypoint, cmd;
    std::vector<std::pair<std::string, std::string>> env, labels;
    std::string user, workdir, stop_signal;

    bool deploys = false;
    std::vector<ConfigMapSpec> config_maps;
    std::vector<SecretSpec> secrets;
    std::vector<Workload> workloads;
    std::vector<ServiceSpec> services;

    dmc_plugin plugin{};
};

// The models by template name, for the hooks, which the host calls with it; the
// first file of a name keeps it, as the catalog keeps the first plugin of a name.
std::map<std::string, std::unique_ptr<Model>>& models() {
    static auto* all = new std::map<std::string, std::unique_ptr<Model>>;  // never freed
    return *all;
}

// Reads one YAML file into a Model, holding every error to file, line and key.
class Reader {
  public:
    explicit Reader(const fs::path& file) : origin_(file.string()) {}

    std::unique_ptr<Model> read(const std::string& text) {
        auto m = std::make_unique<Model>();
        const YAML::Node root = load_yaml(text, origin_);
        for_each_entry(root, "", origin_,
                       [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
                           if (k == "name")
                               m->name = scalar(v, k);
                           else if (k == "version")
                               m->version = scalar(v, k);
                           else if (k == "group")
                               m->group = scalar(v, k);
                           else if (k == "description")
                               m->description = scalar(v, k);
                           else if (k == "builds_on")
                               m->builds_on = list(v, k);
                           else if (k == "options")
                               read_options(*m, v);
                           else if (k == "prepare")
                               read_prepare(*m, v);
                           else if (k == "collect")
                               read_collect(*m, v);
                           else if (k == "configure")
                               read_configure(*m, v);
                           else if (k == "deploy")
                               read_deploy(*m, v);
                           else
                               unknown_yaml_key(
                                   origin_, kn, k,
                                   "builds_on, collect, configure, deploy, description, group, "
                                   "name, options, prepare, version");
                       });
        if (m->name.empty())
            yaml_error(origin_, root, "name", "is missing: every template has one");
        if (auto why = unsafe_name(m->name))
            yaml_error(origin_, root, "name", "is not valid: " + *why);
        return m;
    }

  private:
    std::string scalar(const YAML::Node& v, const std::string& key) {
        if (!v.IsScalar()) yaml_error(origin_, v, key, "must be a single value");
        return v.as<std::string>();
    }
    std::vector<std::string> list(const YAML::Node& v, const std::string& key) {
        if (v.IsNull()) return {};
        if (!v.IsSequence()) yaml_error(origin_, v, key, "must be a list");
        std::vector<std::string> out;
        for (const auto& item : v) out.push_back(scalar(item, key));
        return out;
    }
    std::vector<std::pair<std::string, std::string>> pairs(const YAML::Node& v,
                                                           const std::string& key) {
        std::vector<std::pair<std::string, std::string>> out;
        if (v.IsNull()) return out;
        for_each_entry(v, key, origin_,
                       [&](const std::string& k, const YAML::Node&, const YAML::Node& value) {
                           out.emplace_back(k, scalar(value, key + "." + k));
                       });
        return out;
    }
    std::uint32_t number(const YAML::Node& v, const std::string& key, int base) {
        const std::string text = scalar(v, key);
        std::size_t used = 0;
        unsigned long n = 0;
        try {
            n = std::stoul(text, &used, base);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != text.size() || text.empty() || n > 0xfffffffeUL)
            yaml_error(origin_, v, key,
                       base == 8 ? "must be an octal mode such as \"0644\"" : "must be a number");
        return static_cast<std::uint32_t>(n);
    }
    // A list of mappings with the keys `valid` (those in `required` must be there).
    template <class Each>
    void records(const YAML::Node& v, const std::string& key, const std::set<std::string>& valid,
                 const std::set<std::string>& required, Each each) {
        if (v.IsNull()) return;
        if (!v.IsSequence()) yaml_error(origin_, v, key, "must be a list");
        for (const auto& item : v) {
            std::map<std::string, YAML::Node> fields;
            for_each_entry(
                item, key, origin_,
                [&](const std::string& k, const YAML::Node& kn, const YAML::Node& value) {
                    if (!valid.count(k)) {
                        std::string names;
                        for (const auto& n : valid) names += (names.empty() ? "" : ", ") + n;
                        unknown_yaml_key(origin_, kn, key + "." + k, names);
                    }
                    fields[k] = value;
                });
            for (const auto& r : required)
                if (!fields.count(r)) yaml_error(origin_, item, key, "needs " + r);
            each(fields);
        }
    }

    void read_options(Model& m, const YAML::Node& v) {
        m.takes_any_option = false;
        if (v.IsNull()) return;
        for_each_entry(
            v, "options", origin_,
            [&](const std::string& k, const YAML::Node& kn, const YAML::Node& value) {
                std::string def, description;
                if (auto why = unsafe_name(k); why || k.find('.') != std::string::npos)
                    yaml_error(origin_, kn, "options." + k, "is not a valid option name");
                for_each_entry(
                    value, "options." + k, origin_,
                    [&](const std::string& f, const YAML::Node& fn, const YAML::Node& fv) {
                        if (f == "default")
                            def = scalar(fv, "options." + k + ".default");
                        else if (f == "description")
                            description = scalar(fv, "options." + k + ".description");
                        else
                            unknown_yaml_key(origin_, fn, "options." + k + "." + f,
                                             "default, description");
                    });
                m.options.push_back({k, def, description});
            });
    }

    void read_prepare(Model& m, const YAML::Node& v) {
        for_each_entry(v, "prepare", origin_,
                       [&](const std::string& k, const YAML::Node& kn, const YAML::Node& value) {
                           const std::string key = "prepare." + k;
                           if (k == "packages")
                               m.packages = list(value, key);
                           else if (k == "exclude")
                               m.exclude = list(value, key);
                           else if (k == "want")
                               m.want = list(value, key);
                           else if (k == "alternatives")
                               m.alternatives = pairs(value, key);
                           else
                               unknown_yaml_key(origin_, kn, key,
                                                "alternatives, exclude, packages, want");
                       });
    }

    void read_collect(Model& m, const YAML::Node& v) {
        const std::map<std::string, std::vector<std::string>*> lists = {
            {"paths", &m.paths},
            {"globs", &m.globs},
            {"dlopened", &m.dlopened},
            {"allow_missing", &m.allow_missing},
            {"package_files", &m.package_files},
            {"allow_setid", &m.allow_setid}};
        for_each_entry(
            v, "collect", origin_,
            [&](const std::string& k, const YAML::Node& kn, const YAML::Node& value) {
                auto it = lists.find(k);
                if (it == lists.end())
                    unknown_yaml_key(
                        origin_, kn, "collect." + k,
                        "allow_missing, allow_setid, dlopened, globs, package_files, paths");
                *it->second = list(value, "collect." + k);
            });
    }

    Owned owned(std::map<std::string, YAML::Node>& f, const std::string& key) {
        Owned o;
        if (f.count("path")) o.path = scalar(f["path"], key + ".path");
        if (f.count("mode")) o.mode = number(f["mode"], key + ".mode", 8);
        if (f.count("owner")) o.owner = scalar(f["owner"], key + ".owner");
        if (f.count("target")) o.target = scalar(f["target"], key + ".target");
        if (f.count("from")) o.source = scalar(f["from"], key + ".from");
        if (f.count("to")) o.path = scalar(f["to"], key + ".to");
        return o;
    }

    void read_configure(Model& m, const YAML::Node& v) {
        for_each_entry(
            v, "configure", origin_,
            [&](const std::string& k, const YAML::Node& kn, const YAML::Node& value) {
                const std::string key = "configure." + k;
                if (k == "system_users")
                    m.system_users = list(value, key);
                else if (k == "remove")
                    m.remove = list(value, key);
                else if (k == "expose")
                    m.expose = list(value, key);
                else if (k == "volumes")
                    m.volumes = list(value, key);
                else if (k == "entrypoint")
                    m.entrypoint = list(value, key);
                else if (k == "cmd")
                    m.cmd = list(value, key);
                else if (k == "env")
                    m.env = pairs(value, key);
                else if (k == "labels")
                    m.labels = pairs(value, key);
                else if (k == "user")
                    m.user = scalar(value, key);
                else if (k == "workdir")
                    m.workdir = scalar(value, key);
                else if (k == "stop_signal")
                    m.stop_signal = scalar(value, key);
                else if (k == "groups")
                    records(value, key, {"name", "gid"}, {"name", "gid"}, [&](auto& f) {
                        m.groups.push_back({scalar(f["name"], key + ".name"), "", "", 0,
                                            number(f["gid"], key + ".gid", 10)});
                    });
                else if (k == "users")
                    records(value, key, {"name", "uid", "gid", "home", "shell"},
                            {"name", "uid", "gid"}, [&](auto& f) {
                                Account a{scalar(f["name"], key + ".name"), "/nonexistent",
                                          "/usr/sbin/nologin", number(f["uid"], key + ".uid", 10),
                                          number(f["gid"], key + ".gid", 10)};
                                if (f.count("home")) a.home = scalar(f["home"], key + ".home");
                                if (f.count("shell")) a.shell = scalar(f["shell"], key + ".shell");
                                m.users.push_back(a);
                            });
                else if (k == "dirs")
                    records(value, key, {"path", "mode", "owner"}, {"path"},
                            [&](auto& f) { m.dirs.push_back(owned(f, key)); });
                else if (k == "files")
                    records(value, key, {"path", "source", "content", "mode", "owner"}, {"path"},
                            [&](auto& f) { m.files.push_back(file_entry(f, key)); });
                else if (k == "copy")
                    records(value, key, {"from", "to", "mode"}, {"from", "to"},
                            [&](auto& f) { m.copies.push_back(owned(f, key)); });
                else if (k == "symlinks")
                    records(value, key, {"path", "target"}, {"path", "target"},
                            [&](auto& f) { m.symlinks.push_back(owned(f, key)); });
                else
                    unknown_yaml_key(
                        origin_, kn, key,
                        "cmd, copy, dirs, entrypoint, env, expose, files, groups, labels, "
                        "remove, stop_signal, symlinks, system_users, user, users, "
                        "volumes, workdir");
            });
    }

    Owned file_entry(std::map<std::string, YAML::Node>& f, const std::string& key) {
        Owned o = owned(f, key);
        if (f.count("source") == f.count("content"))
            yaml_error(origin_, f["path"], key, "needs either source or content");
        if (f.count("content")) {
            o.content = scalar(f["content"], key + ".content");
            o.has_content = true;
            return o;
        }
        o.source = scalar(f["source"], key + ".source");
        // A file kept next to the YAML, never one elsewhere.
        const fs::path source(o.source);
        bool inside = !o.source.empty() && source.is_relative();
        for (const auto& part : source) inside = inside && part != "..";
        if (!inside)
            yaml_error(origin_, f["source"], key + ".source",
                       "must name a file next to the template, without ..");
        return o;
    }

    int integer(const YAML::Node& v, const std::string& key) {
        const std::uint32_t n = number(v, key, 10);
        if (n > 65535) yaml_error(origin_, v, key, "must be at most 65535");
        return static_cast<int>(n);
    }
    std::vector<std::pair<std::string, int>> ports(const YAML::Node& v, const std::string& key) {
        std::vector<std::pair<std::string, int>> out;
        for_each_entry(v, key, origin_,
                       [&](const std::string& k, const YAML::Node&, const YAML::Node& value) {
                           out.emplace_back(k, integer(value, key + "." + k));
                       });
        return out;
    }
    // A probe: {http: {path, port}}, {tcp: {port}} or {exec: [argv]}, and its timing.
    sdk::kube::Probe probe(const YAML::Node& v, const std::string& key) {
        sdk::kube::Probe p;
        for_each_entry(
            v, key, origin_,
            [&](const std::string& k, const YAML::Node& kn, const YAML::Node& value) {
                const std::string full = key + "." + k;
                if (k == "http" || k == "tcp") {
                    p.kind =
                        k == "http" ? sdk::kube::Probe::Kind::http : sdk::kube::Probe::Kind::tcp;
                    for_each_entry(
                        value, full, origin_,
                        [&](const std::string& f, const YAML::Node& fn, const YAML::Node& fv) {
                            if (f == "port")
                                p.port = scalar(fv, full + ".port");
                            else if (f == "path" && k == "http")
                                p.path = scalar(fv, full + ".path");
                            else
                                unknown_yaml_key(origin_, fn, full + "." + f,
                                                 k == "http" ? "path, port" : "port");
                        });
                } else if (k == "exec") {
                    p.kind = sdk::kube::Probe::Kind::exec;
                    p.argv = list(value, full);
                } else if (k == "initial_delay_seconds") {
                    p.initial_delay_seconds = integer(value, full);
                } else if (k == "period_seconds") {
                    p.period_seconds = integer(value, full);
                } else {
                    unknown_yaml_key(origin_, kn, full,
                                     "exec, http, initial_delay_seconds, period_seconds, tcp");
                }
            });
        return p;
    }
    std::vector<sdk::kube::ConfigFile> mounts(const YAML::Node& v, const std::string& key) {
        std::vector<sdk::kube::ConfigFile> out;
        records(v, key, {"config_map", "secret", "key", "path"}, {"key", "path"}, [&](auto& f) {
            if (f.count("config_map") == f.count("secret"))
                yaml_error(origin_, f["key"], key, "needs either config_map or secret");
            const std::string from = f.count("config_map") ? "config_map" : "secret";
            out.push_back({scalar(f[from], key + "." + from), scalar(f["key"], key + ".key"),
                           scalar(f["path"], key + ".path")});
        });
        return out;
    }
    sdk::kube::Container container(std::map<std::string, YAML::Node>& f, const std::string& key) {
        sdk::kube::Container c;
        for (auto& [k, v] : f) {
            const std::string full = key + "." + k;
            if (k == "name")
                c.name = scalar(v, full);
            else if (k == "command")
                c.command = list(v, full);
            else if (k == "args")
                c.args = list(v, full);
            else if (k == "ports")
                c.ports = ports(v, full);
            else if (k == "env")
                c.env = pairs(v, full);
            else if (k == "secret_env")
                records(v, full, {"name", "secret", "key"}, {"name", "secret", "key"},
                        [&](auto& e) {
                            c.secret_env.push_back({scalar(e["name"], full + ".name"),
                                                    scalar(e["secret"], full + ".secret"),
                                                    scalar(e["key"], full + ".key")});
                        });
            else if (k == "readiness")
                c.readiness = probe(v, full);
            else if (k == "liveness")
                c.liveness = probe(v, full);
            else if (k == "cpu")
                c.cpu = scalar(v, full);
            else if (k == "memory")
                c.memory = scalar(v, full);
            else if (k == "memory_limit")
                c.memory_limit = scalar(v, full);
            else if (k == "writable")
                c.writable = list(v, full);
            else if (k == "config_files")
                c.config_files = mounts(v, full);
            else if (k == "secret_files")
                c.secret_files = mounts(v, full);
            else if (k == "claims")
                c.claims = pairs(v, full);
            else if (k == "existing_claims")
                c.existing_claims = pairs(v, full);
        }
        return c;
    }

    void read_deploy(Model& m, const YAML::Node& v) {
        m.deploys = true;
        const std::set<std::string> container_keys = {
            "name",         "command",      "args",         "ports",
            "env",          "secret_env",   "readiness",    "liveness",
            "cpu",          "memory",       "memory_limit", "writable",
            "config_files", "secret_files", "claims",       "existing_claims"};
        for_each_entry(
            v, "deploy", origin_,
            [&](const std::string& k, const YAML::Node& kn, const YAML::Node& value) {
                const std::string key = "deploy." + k;
                if (k == "config_maps") {
                    records(value, key, {"name", "component", "data"},
                            {"name", "component", "data"}, [&](auto& f) {
                                ConfigMapSpec c{scalar(f["name"], key + ".name"),
                                                scalar(f["component"], key + ".component"),
                                                {}};
                                records(f["data"], key + ".data", {"key", "source", "content"},
                                        {"key"}, [&](auto& d) {
                                            d["path"] = d["key"];
                                            Owned o = file_entry(d, key + ".data");
                                            c.data.emplace_back(scalar(d["key"], key + ".data.key"),
                                                                o);
                                        });
                                m.config_maps.push_back(std::move(c));
                            });
                } else if (k == "generated_secrets") {
                    records(value, key, {"name", "keys"}, {"name", "keys"}, [&](auto& f) {
                        m.secrets.push_back(
                            {scalar(f["name"], key + ".name"), list(f["keys"], key + ".keys")});
                    });
                } else if (k == "deployments" || k == "stateful_sets") {
                    std::set<std::string> valid = {"name", "component", "containers"};
                    if (k == "deployments")
                        valid.insert("replicas");
                    else
                        valid.insert({"claim", "size"});
                    std::set<std::string> required = {"name", "component", "containers"};
                    if (k == "stateful_sets") required.insert({"claim", "size"});
                    records(value, key, valid, required, [&](auto& f) {
                        Workload w;
                        w.kind = k;
                        w.name = scalar(f["name"], key + ".name");
                        w.component = scalar(f["component"], key + ".component");
                        if (f.count("replicas"))
                            w.replicas = integer(f["replicas"], key + ".replicas");
                        if (f.count("claim")) w.claim = scalar(f["claim"], key + ".claim");
                        if (f.count("size")) w.size = scalar(f["size"], key + ".size");
                        records(f["containers"], key + ".containers", container_keys, {"name"},
                                [&](auto& c) {
                                    w.containers.push_back(container(c, key + ".containers"));
                                });
                        m.workloads.push_back(std::move(w));
                    });
                } else if (k == "services") {
                    records(value, key, {"name", "component", "ports"},
                            {"name", "component", "ports"}, [&](auto& f) {
                                m.services.push_back({scalar(f["name"], key + ".name"),
                                                      scalar(f["component"], key + ".component"),
                                                      ports(f["ports"], key + ".ports")});
                            });
                } else {
                    unknown_yaml_key(origin_, kn, key,
                                     "config_maps, deployments, generated_secrets, services, "
                                     "stateful_sets");
                }
            });
    }

    std::string origin_;
};

// "${KEY}" replaced by the hook setting KEY.
std::string expand(const sdk::Context& c, const std::string& text) {
    std::string out;
    for (std::size_t at = 0;;) {
        const std::size_t open = text.find("${", at);
        if (open == std::string::npos) return out + text.substr(at);
        const std::size_t close = text.find('}', open);
        if (close == std::string::npos) return out + text.substr(at);
        const std::string key = text.substr(open + 2, close - open - 2);
        const auto value = c.setting(key);
        if (!value) throw std::runtime_error("\"${" + key + "}\" names no setting");
        out += text.substr(at, open - at) + *value;
        at = close + 1;
    }
}

std::vector<std::string> expand(const sdk::Context& c, const std::vector<std::string>& texts) {
    std::vector<std::string> out;
    for (const auto& t : texts) out.push_back(expand(c, t));
    return out;
}

// The text a file of the template gives: its content, or the file next to the YAML.
std::string text_of(const sdk::Context& c, const Model& m, const Owned& o) {
    return o.has_content ? expand(c, o.content) : read_file(m.file.parent_path() / o.source);
}

// The SDK's guard around a hook, given the model of the template the host names.
template <class Wrapper, class Ctx, class Body>
int run_hook(const Ctx* ctx, Body body) noexcept {
    return sdk::detail::run_guarded<Wrapper>(ctx, [&](Wrapper& wrapper) {
        const auto name = wrapper.template_name();
        auto it = models().find(name);
        if (it == models().end()) throw std::runtime_error("no YAML template " + name);
        body(*it->second, wrapper);
    });
}

int prepare(const dmc_prepare_ctx* ctx) {
    return run_hook<sdk::Prepare>(ctx, [](const Model& m, sdk::Prepare& p) {
        for (const auto& name : expand(p, m.packages)) p.package(name);
        for (const auto& name : expand(p, m.exclude)) p.exclude(name);
        for (const auto& feature : m.want) p.want(feature);
        for (const auto& [name, path] : m.alternatives)
            p.alternative(expand(p, name), expand(p, path));
    });
}

int collect(const dmc_collect_ctx* ctx) {
    return run_hook<sdk::Collect>(ctx, [](const Model& m, sdk::Collect& c) {
        for (const auto& p : expand(c, m.paths)) c.path(p);
        for (const auto& g : expand(c, m.globs)) c.glob(g);
        for (const auto& g : expand(c, m.dlopened)) c.dlopened(g);
        for (const auto& s : expand(c, m.allow_missing)) c.allow_missing(s);
        for (const auto& p : expand(c, m.package_files)) c.package_files(p);
        for (const auto& g : expand(c, m.allow_setid)) c.allow_setid(g);
    });
}

int configure(const dmc_configure_ctx* ctx) {
    return run_hook<sdk::Configure>(ctx, [](const Model& m, sdk::Configure& c) {
        std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> owners;
        for (const auto& name : m.system_users) {
            const auto u = c.system_user(name);
            owners[name] = {u.uid, u.gid};
        }
        for (const auto& g : m.groups) c.group(g.name, g.gid);
        for (const auto& u : m.users) {
            c.user(u.name, u.uid, u.gid, u.home, u.shell);
            owners[u.name] = {u.uid, u.gid};
        }
        auto owner = [&](const Owned& o) -> std::pair<std::uint32_t, std::uint32_t> {
            if (o.owner.empty()) return {0, 0};
            auto it = owners.find(o.owner);
            if (it == owners.end())
                throw std::runtime_error(o.path + " is owned by " + o.owner +
                                         ", whom this template does not declare");
            return it->second;
        };
        for (const auto& path : expand(c, m.remove)) c.remove(path);
        for (const auto& d : m.dirs) {
            const auto [uid, gid] = owner(d);
            c.dir(expand(c, d.path), d.mode.value_or(0755), uid, gid);
        }
        for (const auto& f : m.files) {
            const auto [uid, gid] = owner(f);
            c.file(expand(c, f.path), text_of(c, m, f), f.mode.value_or(0644), uid, gid);
        }
        for (const auto& copy : m.copies)
            c.copy(expand(c, copy.source), expand(c, copy.path), copy.mode.value_or(0644));
        for (const auto& l : m.symlinks) c.symlink(expand(c, l.target), expand(c, l.path));
        if (m.entrypoint) c.entrypoint(expand(c, *m.entrypoint));
        if (m.cmd) c.cmd(expand(c, *m.cmd));
        for (const auto& [name, value] : m.env) c.env(name, expand(c, value));
        if (!m.user.empty()) c.run_as(expand(c, m.user));
        if (!m.workdir.empty()) c.workdir(expand(c, m.workdir));
        for (const auto& port : expand(c, m.expose)) c.expose(port);
        for (const auto& v : expand(c, m.volumes)) c.volume(v);
        for (const auto& [name, value] : m.labels) c.label(name, expand(c, value));
        if (!m.stop_signal.empty()) c.stop_signal(m.stop_signal);
    });
}

std::vector<sdk::kube::Container> expanded(const sdk::Context& c,
                                           std::vector<sdk::kube::Container> containers) {
    for (auto& k : containers) {
        k.command = expand(c, k.command);
        k.args = expand(c, k.args);
        for (auto& [name, value] : k.env) value = expand(c, value);
        for (auto& f : k.config_files) f.config_map = expand(c, f.config_map);
        for (auto& f : k.secret_files) f.config_map = expand(c, f.config_map);
        for (auto& e : k.secret_env) e.secret = expand(c, e.secret);
        for (auto& [claim, path] : k.existing_claims) claim = expand(c, claim);
    }
    return containers;
}

int deploy(const dmc_deploy_ctx* ctx) {
    return run_hook<sdk::Deploy>(ctx, [](const Model& m, sdk::Deploy& d) {
        for (const auto& s : m.secrets) d.generated_secret(expand(d, s.name), s.keys);
        for (const auto& cm : m.config_maps) {
            std::map<std::string, std::string> data;
            for (const auto& [key, file] : cm.data) data[key] = text_of(d, m, file);
            d.config_map(expand(d, cm.name), cm.component, data);
        }
        for (const auto& w : m.workloads) {
            const auto containers = expanded(d, w.containers);
            if (w.kind == "deployments")
                d.deployment(expand(d, w.name), w.component, containers, w.replicas);
            else
                d.stateful_set(expand(d, w.name), w.component, containers, w.claim,
                               expand(d, w.size));
        }
        for (const auto& s : m.services) d.service(expand(d, s.name), s.component, s.ports);
    });
}

}  // namespace

const dmc_plugin* load_manifest_template(const fs::path& file) {
    auto model = Reader(file).read(read_file(file));
    Model& m = *model;
    m.file = file;
    for (const auto& base : m.builds_on) m.builds_on_c.push_back(base.c_str());
    m.builds_on_c.push_back(nullptr);
    for (const auto& [name, def, description] : m.options)
        m.options_c.push_back({name.c_str(), def.c_str(), description.c_str()});
    m.options_c.push_back({nullptr, nullptr, nullptr});
    m.plugin.abi_version = DMC_PLUGIN_ABI_VERSION;
    m.plugin.struct_size = sizeof(dmc_plugin);
    m.plugin.name = m.name.c_str();
    m.plugin.version = m.version.c_str();
    m.plugin.description = m.description.c_str();
    m.plugin.group = m.group.c_str();
    m.plugin.builds_on = m.builds_on_c.data();
    m.plugin.prepare = prepare;
    m.plugin.collect = collect;
    m.plugin.configure = configure;
    m.plugin.deploy = m.deploys ? deploy : nullptr;
    m.plugin.options = m.takes_any_option ? nullptr : m.options_c.data();
    const dmc_plugin* plugin = &m.plugin;
    if (auto [it, fresh] = models().try_emplace(m.name, std::move(model)); !fresh) {
        // Another file has the name: the catalog refuses this one; keep it alive anyway.
        static auto* refused = new std::vector<std::unique_ptr<Model>>;
        refused->push_back(std::move(model));
    }
    return plugin;
}

}  // namespace dmc::plugin
