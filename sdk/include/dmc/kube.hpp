// Kubernetes objects for a template's deploy hook: a small JSON value and typed
// builders that give every object dmc's labels, resource requests, probes and a
// restrictive securityContext, so that a template only says what is its own.
// Header-only, nothing of the host: the host receives each object as JSON text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace dmc::sdk::kube {

// A JSON value. Object members keep the order they were added in, so the printed
// manifests read apiVersion, kind, metadata, spec.
class Value {
  public:
    enum class Type { null, boolean, number, string, array, object };

    Value() = default;
    Value(bool b) : type_(Type::boolean), bool_(b) {}                     // NOLINT
    Value(int n) : type_(Type::number), number_(n) {}                     // NOLINT
    Value(long long n) : type_(Type::number), number_(n) {}               // NOLINT
    Value(std::uint32_t n) : type_(Type::number), number_(n) {}           // NOLINT
    Value(const char* s) : type_(Type::string), string_(s) {}             // NOLINT
    Value(std::string s) : type_(Type::string), string_(std::move(s)) {}  // NOLINT

    static Value object() {
        Value v;
        v.type_ = Type::object;
        return v;
    }
    static Value array() {
        Value v;
        v.type_ = Type::array;
        return v;
    }
    template <class... Items>
    static Value list(Items&&... items) {
        Value v = array();
        (v.push(Value(std::forward<Items>(items))), ...);
        return v;
    }
    static Value strings(const std::vector<std::string>& items) {
        Value v = array();
        for (const auto& s : items) v.push(s);
        return v;
    }

    Type type() const { return type_; }
    bool empty() const { return type_ == Type::null || (items_.empty() && keys_.empty()); }

    // The member `key`, made (null) when missing; a null value becomes an object.
    Value& operator[](const std::string& key) {
        if (type_ == Type::null) type_ = Type::object;
        for (std::size_t i = 0; i < keys_.size(); ++i)
            if (keys_[i] == key) return items_[i];
        keys_.push_back(key);
        items_.emplace_back();
        return items_.back();
    }
    // Appends to an array (a null value becomes one) and returns the new item.
    Value& push(Value item) {
        if (type_ == Type::null) type_ = Type::array;
        items_.push_back(std::move(item));
        return items_.back();
    }

    std::string dump() const {
        std::string out;
        write(out);
        return out;
    }

  private:
    static void quote(std::string& out, const std::string& s) {
        static const char* hex = "0123456789abcdef";
        out += '"';
        for (unsigned char c : s) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c == '\n') {
                out += "\\n";
            } else if (c == '\t') {
                out += "\\t";
            } else if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += static_cast<char>(c);
            }
        }
        out += '"';
    }
    void write(std::string& out) const {
        switch (type_) {
            case Type::null:
                out += "null";
                return;
            case Type::boolean:
                out += bool_ ? "true" : "false";
                return;
            case Type::number:
                out += std::to_string(number_);
                return;
            case Type::string:
                quote(out, string_);
                return;
            case Type::array:
                out += '[';
                for (std::size_t i = 0; i < items_.size(); ++i) {
                    if (i) out += ',';
                    items_[i].write(out);
                }
                out += ']';
                return;
            case Type::object:
                out += '{';
                for (std::size_t i = 0; i < keys_.size(); ++i) {
                    if (i) out += ',';
                    quote(out, keys_[i]);
                    out += ':';
                    items_[i].write(out);
                }
                out += '}';
                return;
        }
    }

    Type type_ = Type::null;
    bool bool_ = false;
    long long number_ = 0;
    std::string string_;
    std::vector<std::string> keys_;  // objects
    std::vector<Value> items_;       // array items, or the objects' member values
};

// How Kubernetes asks the service whether it is alive and ready.
struct Probe {
    enum class Kind { none, http, tcp, exec };
    Kind kind = Kind::none;
    std::string path;               // http
    std::string port;               // http, tcp: a port name of the container
    std::vector<std::string> argv;  // exec: only where the image has the binary
    int initial_delay_seconds = 0;  // liveness waits this long after the start
    int period_seconds = 10;

    static Probe http(std::string path, std::string port) {
        Probe p;
        p.kind = Kind::http;
        p.path = std::move(path);
        p.port = std::move(port);
        return p;
    }
    static Probe tcp(std::string port) {
        Probe p;
        p.kind = Kind::tcp;
        p.port = std::move(port);
        return p;
    }
    static Probe exec(std::vector<std::string> argv) {
        Probe p;
        p.kind = Kind::exec;
        p.argv = std::move(argv);
        return p;
    }

    Value to_value(int initial_delay) const {
        Value v = Value::object();
        if (kind == Kind::http) {
            v["httpGet"]["path"] = path;
            v["httpGet"]["port"] = port;
        } else if (kind == Kind::tcp) {
            v["tcpSocket"]["port"] = port;
        } else if (kind == Kind::exec) {
            v["exec"]["command"] = Value::strings(argv);
        }
        if (initial_delay > 0) v["initialDelaySeconds"] = initial_delay;
        v["periodSeconds"] = period_seconds;
        return v;
    }
};

// A file of a ConfigMap mounted over one path of the image.
struct ConfigFile {
    std::string config_map;  // the ConfigMap's name
    std::string key;         // its key
    std::string path;        // where the file appears in the container
};

// An environment variable taken from a key of a Secret.
struct SecretEnv {
    std::string name, secret, key;
};

struct Container {
    std::string name;
    std::vector<std::string> command, args;          // empty: the image's entrypoint and cmd
    std::vector<std::pair<std::string, int>> ports;  // {"http", 8080}
    std::vector<std::pair<std::string, std::string>> env;
    std::vector<SecretEnv> secret_env;
    Probe readiness, liveness;  // liveness none: the readiness probe, later and slower
    std::string cpu = "50m", memory = "64Mi";  // requests
    std::string memory_limit;                  // empty: none
    // Where the service writes: an emptyDir each, the root filesystem staying read-only.
    std::vector<std::string> writable;
    std::vector<ConfigFile> config_files;
    // A claim of the StatefulSet's volumeClaimTemplates mounted at a path: {claim, path}.
    std::vector<std::pair<std::string, std::string>> claims;
    // A PersistentVolumeClaim of its own mounted at a path: {claim name, path}.
    std::vector<std::pair<std::string, std::string>> existing_claims;
    // A key of a Secret mounted as a file (one the user makes: credentials).
    std::vector<ConfigFile> secret_files;  // config_map names the Secret here
};

// A volume name for a path: "/var/lib/nginx" -> "var-lib-nginx".
inline std::string volume_name(const std::string& prefix, const std::string& path) {
    std::string out = prefix;
    for (char c : path) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (ok) {
            out += c;
        } else if (c >= 'A' && c <= 'Z') {
            out += static_cast<char>(c - 'A' + 'a');
        } else if (!out.empty() && out.back() != '-') {
            out += '-';
        }
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.substr(0, 63);
}

// Who the pod runs as: the image's numeric user, never root.
struct RunAs {
    std::uint32_t uid = 65534, gid = 65534;
};

inline Value pod_security_context(const RunAs& user) {
    Value v = Value::object();
    v["runAsNonRoot"] = true;
    v["runAsUser"] = user.uid;
    v["runAsGroup"] = user.gid;
    v["fsGroup"] = user.gid;
    v["seccompProfile"]["type"] = "RuntimeDefault";
    return v;
}

inline Value container_security_context(const RunAs& user) {
    Value v = Value::object();
    v["runAsNonRoot"] = true;
    v["runAsUser"] = user.uid;
    v["runAsGroup"] = user.gid;
    v["readOnlyRootFilesystem"] = true;
    v["allowPrivilegeEscalation"] = false;
    v["privileged"] = false;
    v["capabilities"]["drop"] = Value::list("ALL");
    v["seccompProfile"]["type"] = "RuntimeDefault";
    return v;
}

// The pod template's spec for the containers: their volumes follow from what each
// mounts, so a writable path or a config file is declared once, in the container.
inline Value pod_spec(const std::vector<Container>& containers, const std::string& image,
                      const RunAs& user, const std::vector<Container>& init_containers = {}) {
    Value spec = Value::object();
    spec["automountServiceAccountToken"] = false;
    spec["enableServiceLinks"] = false;
    spec["securityContext"] = pod_security_context(user);
    Value mains = Value::array(), inits = Value::array();
    Value volumes = Value::array();
    std::vector<std::string> declared;
    auto declare = [&](const std::string& name, Value source) {
        for (const auto& d : declared)
            if (d == name) return;
        declared.push_back(name);
        volumes.push(std::move(source));
    };
    for (std::size_t index = 0; index < init_containers.size() + containers.size(); ++index) {
        const bool init = index < init_containers.size();
        const Container& c =
            init ? init_containers[index] : containers[index - init_containers.size()];
        Value& out = (init ? inits : mains).push(Value::object());
        out["name"] = c.name;
        out["image"] = image;
        out["imagePullPolicy"] = "IfNotPresent";
        if (!c.command.empty()) out["command"] = Value::strings(c.command);
        if (!c.args.empty()) out["args"] = Value::strings(c.args);
        for (const auto& [name, port] : c.ports) {
            Value& p = out["ports"].push(Value::object());
            p["name"] = name;
            p["containerPort"] = port;
            p["protocol"] = "TCP";
        }
        for (const auto& [name, value] : c.env) {
            Value& e = out["env"].push(Value::object());
            e["name"] = name;
            e["value"] = value;
        }
        for (const auto& s : c.secret_env) {
            Value& e = out["env"].push(Value::object());
            e["name"] = s.name;
            e["valueFrom"]["secretKeyRef"]["name"] = s.secret;
            e["valueFrom"]["secretKeyRef"]["key"] = s.key;
        }
        out["resources"]["requests"]["cpu"] = c.cpu;
        out["resources"]["requests"]["memory"] = c.memory;
        if (!c.memory_limit.empty()) out["resources"]["limits"]["memory"] = c.memory_limit;
        // Init containers run to completion: Kubernetes takes no probes for them.
        if (c.readiness.kind != Probe::Kind::none && !init)
            out["readinessProbe"] = c.readiness.to_value(0);
        const Probe& live = c.liveness.kind != Probe::Kind::none ? c.liveness : c.readiness;
        if (live.kind != Probe::Kind::none && !init)
            out["livenessProbe"] =
                live.to_value(live.initial_delay_seconds > 0 ? live.initial_delay_seconds : 10);
        out["securityContext"] = container_security_context(user);
        for (const auto& path : c.writable) {
            const std::string name = volume_name("tmp-", path);
            Value& m = out["volumeMounts"].push(Value::object());
            m["name"] = name;
            m["mountPath"] = path;
            Value v = Value::object();
            v["name"] = name;
            v["emptyDir"] = Value::object();
            declare(name, std::move(v));
        }
        // A key of a ConfigMap or a Secret, mounted read-only as one file.
        auto mount_key = [&](const ConfigFile& f, const std::string& prefix, const char* kind,
                             const char* name_field) {
            const std::string name = volume_name(prefix, f.config_map);
            Value& m = out["volumeMounts"].push(Value::object());
            m["name"] = name;
            m["mountPath"] = f.path;
            m["subPath"] = f.key;
            m["readOnly"] = true;
            Value v = Value::object();
            v["name"] = name;
            v[kind][name_field] = f.config_map;
            declare(name, std::move(v));
        };
        for (const auto& f : c.config_files) mount_key(f, "", "configMap", "name");
        for (const auto& f : c.secret_files) mount_key(f, "secret-", "secret", "secretName");
        for (const auto& [claim, path] : c.claims) {
            Value& m = out["volumeMounts"].push(Value::object());
            m["name"] = claim;
            m["mountPath"] = path;
        }
        for (const auto& [claim, path] : c.existing_claims) {
            Value& m = out["volumeMounts"].push(Value::object());
            m["name"] = claim;
            m["mountPath"] = path;
            Value v = Value::object();
            v["name"] = claim;
            v["persistentVolumeClaim"]["claimName"] = claim;
            declare(claim, std::move(v));
        }
    }
    if (!inits.empty()) spec["initContainers"] = std::move(inits);
    spec["containers"] = std::move(mains);
    if (!volumes.empty()) spec["volumes"] = std::move(volumes);
    return spec;
}

}  // namespace dmc::sdk::kube
