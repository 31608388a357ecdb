// The C++ face of the dmc template SDK. A template is a class derived from
// dmc::sdk::Template, registered with one DMC_TEMPLATE(...) line:
//
//   class Hello : public dmc::sdk::Template {
//       void prepare(dmc::sdk::Prepare& p) override { p.package("hello"); }
//       void collect(dmc::sdk::Collect& c) override { c.path("/usr/bin/hello"); }
//       void configure(dmc::sdk::Configure& c) override { c.entrypoint({"/usr/bin/hello"}); }
//   };
//   DMC_TEMPLATE(Hello, "hello", "1.0", "core", "GNU hello")
//
// Everything here is inline and talks to the host only through the C structs of
// abi.h, so nothing of the host's insides leaks into a plugin.
#pragma once

#include <dmc/abi.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <dmc/kube.hpp>
#include <exception>
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dmc::sdk {

enum class Level : int {
    error = DMC_LOG_ERROR,
    warning = DMC_LOG_WARNING,
    notice = DMC_LOG_NOTICE,
    info = DMC_LOG_INFO,
    detail = DMC_LOG_DETAIL,
};

// Services common to every hook: logging and the build's settings.
class Context {
  public:
    explicit Context(const dmc_host* host) : host_(host) {}

    void log(Level level, const std::string& message) const {
        host_->log(host_->opaque, static_cast<int>(level), message.c_str());
    }
    std::optional<std::string> setting(const std::string& key) const {
        const char* value = host_->setting(host_->opaque, key.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    }
    std::string template_name() const { return setting("template").value_or(""); }
    // The template whose image is built: another one when it builds on this template.
    std::string image_template() const {
        return setting("image_template").value_or(template_name());
    }
    std::string arch() const { return setting("arch").value_or(""); }
    std::string dist() const { return setting("dist").value_or(""); }
    // The arch's multiarch triplet, "x86_64-linux-gnu": Debian's library directories
    // and its alternatives' names use it ("libblas.so.3-" + multiarch()).
    std::string multiarch() const { return setting("multiarch").value_or(""); }
    bool tools() const { return setting("tools").value_or("") == "1"; }
    // An option of this template: the config file's templates.<name>.<option>, else
    // the default the template declared (see Template::options below).
    std::optional<std::string> option(const std::string& name) const {
        return setting("option." + name);
    }
    // An option of another template of the image being built, such as the php
    // version that adminer's image runs: option_of("php", "version").
    std::optional<std::string> option_of(const std::string& tmpl, const std::string& name) const {
        return setting("option." + tmpl + "." + name);
    }

  private:
    const dmc_host* host_;
};

class Prepare : public Context {
  public:
    explicit Prepare(const dmc_prepare_ctx* ctx) : Context(ctx->host), ctx_(ctx) {}
    void package(const std::string& name) { ctx_->add_package(ctx_->opaque, name.c_str()); }
    void packages(std::initializer_list<const char*> names) {
        for (const char* name : names) package(name);
    }
    void exclude(const std::string& name) { ctx_->exclude_package(ctx_->opaque, name.c_str()); }
    void want(const std::string& feature) { ctx_->want(ctx_->opaque, feature.c_str()); }

    // Building from source (abi.h, dmc_prepare_ctx::source_package, says how). Each
    // throws when the host is older than these calls.
    void source_package(const std::string& name, const std::string& version = "") {
        need(DMC_HAS_FIELD(ctx_, dmc_prepare_ctx, source_package), "source_package");
        ctx_->source_package(ctx_->opaque, name.c_str(), version.c_str());
    }
    void source_tarball(const std::string& url, const std::string& sha256) {
        need(DMC_HAS_FIELD(ctx_, dmc_prepare_ctx, source_tarball), "source_tarball");
        ctx_->source_tarball(ctx_->opaque, url.c_str(), sha256.c_str());
    }
    void build_depends(const std::string& relations) {
        need(DMC_HAS_FIELD(ctx_, dmc_prepare_ctx, build_depends), "build_depends");
        ctx_->build_depends(ctx_->opaque, relations.c_str());
    }
    // A named step ("configure", "build", "install") and its shell command.
    void build_step(const std::string& name, const std::string& command) {
        need(DMC_HAS_FIELD(ctx_, dmc_prepare_ctx, build_step), "build_step");
        ctx_->build_step(ctx_->opaque, name.c_str(), command.c_str());
    }

    // Debian's alternatives are set up as update-alternatives' auto mode would (the
    // choice of highest priority); this pins NAME to PATH, one of its choices:
    // alternative("libblas.so.3-x86_64-linux-gnu",
    // "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3").
    void alternative(const std::string& name, const std::string& path) {
        need(DMC_HAS_FIELD(ctx_, dmc_prepare_ctx, alternative), "alternative");
        ctx_->alternative(ctx_->opaque, name.c_str(), path.c_str());
    }

  private:
    static void need(bool has, const char* call) {
        if (!has)
            throw std::runtime_error(std::string("this dmc is too old for ") + call +
                                     "(); update dmc");
    }
    const dmc_prepare_ctx* ctx_;
};

class Collect : public Context {
  public:
    explicit Collect(const dmc_collect_ctx* ctx) : Context(ctx->host), ctx_(ctx) {}
    void path(const std::string& p) { ctx_->add_path(ctx_->opaque, p.c_str()); }
    void glob(const std::string& pattern) { ctx_->add_glob(ctx_->opaque, pattern.c_str()); }
    void dlopened(const std::string& pattern) { ctx_->add_dlopened(ctx_->opaque, pattern.c_str()); }
    void allow_missing(const std::string& soname) {
        ctx_->allow_missing(ctx_->opaque, soname.c_str());
    }
    void package_files(const std::string& package) {
        ctx_->add_package_files(ctx_->opaque, package.c_str());
    }
    // Files of the packages matching `pattern` (a glob, as for glob()) keep their
    // setuid and setgid bits; the image drops them from every other file. Throws
    // when the host is older than this call.
    void allow_setid(const std::string& pattern) {
        if (!DMC_HAS_FIELD(ctx_, dmc_collect_ctx, allow_setid) || ctx_->allow_setid == nullptr)
            throw std::runtime_error("this dmc is too old for allow_setid(); update dmc");
        ctx_->allow_setid(ctx_->opaque, pattern.c_str());
    }

  private:
    const dmc_collect_ctx* ctx_;
};

// `text` with every placeholder replaced: substitute(script, {{"@UID@", "999"}}).
inline std::string substitute(
    std::string text, std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
    for (const auto& [from, to] : values)
        for (auto pos = from.empty() ? std::string::npos : text.find(from);
             pos != std::string::npos; pos = text.find(from, pos + to.size()))
            text.replace(pos, from.size(), to);
    return text;
}

// A user of the image, with its ids.
struct User {
    std::string name;
    std::uint32_t uid = 0, gid = 0;
    std::string home, shell;
};

class Configure : public Context {
  public:
    explicit Configure(const dmc_configure_ctx* ctx) : Context(ctx->host), ctx_(ctx) {}

    // A file of the packages copied to another path of the image. Throws, naming
    // the file, when the packages do not ship it.
    void copy(const std::string& from, const std::string& to, std::uint32_t mode = 0644) {
        auto data = read(from);
        if (!data)
            throw std::runtime_error("the packages ship no " + from + " (wanted for " + to + ")");
        file(to, *data, mode);
    }

    // A system user of the packages, added to the image with its primary group: one
    // that Debian fixes in base-passwd (www-data is 33:33; prepare must
    // want("system-users") to have base-passwd), or one that a package's maintainer
    // scripts create (mysql), with the ids a real install of the image's packages
    // gives it, which the host reckons without running them. Throws when the
    // packages make no such user.
    User system_user(const std::string& name) {
        // The host writes the rootfs's /etc/passwd and /etc/group; older hosts did not.
        auto passwd = read("/etc/passwd");
        auto groups = read("/etc/group");
        if (!passwd) {
            passwd = read("/usr/share/base-passwd/passwd.master");
            groups = read("/usr/share/base-passwd/group.master");
        }
        if (!passwd)
            throw std::runtime_error(
                "the rootfs has no /etc/passwd; want(\"system-users\") in "
                "prepare to have base-passwd");
        const auto user_fields = entry(*passwd, name, 0, 7);
        if (user_fields.empty())
            throw std::runtime_error("the packages make no system user '" + name + "'");
        User u{name, static_cast<std::uint32_t>(std::stoul(user_fields[2])),
               static_cast<std::uint32_t>(std::stoul(user_fields[3])), user_fields[5],
               user_fields[6]};
        // Its primary group by number; nogroup (65534) is in every image already.
        const auto group_fields = entry(groups.value_or(""), std::to_string(u.gid), 2, 4);
        const std::string group_name = group_fields.empty() ? name : group_fields[0];
        if (u.gid != 65534) group(group_name, u.gid);
        user(u.name, u.uid, u.gid, u.home, u.shell);
        return u;
    }

    void file(const std::string& path, std::string_view data, std::uint32_t mode = 0644,
              std::uint32_t uid = 0, std::uint32_t gid = 0) {
        ctx_->write_file(ctx_->opaque, path.c_str(), data.data(), data.size(), mode, uid, gid);
    }
    std::optional<std::string> read(const std::string& path) const {
        std::size_t size = 0;
        const char* data = ctx_->read_file(ctx_->opaque, path.c_str(), &size);
        if (data == nullptr) return std::nullopt;
        return std::string(data, size);
    }
    void dir(const std::string& path, std::uint32_t mode = 0755, std::uint32_t uid = 0,
             std::uint32_t gid = 0) {
        ctx_->make_dir(ctx_->opaque, path.c_str(), mode, uid, gid);
    }
    void symlink(const std::string& target, const std::string& path) {
        ctx_->make_symlink(ctx_->opaque, target.c_str(), path.c_str());
    }
    void remove(const std::string& path) { ctx_->remove(ctx_->opaque, path.c_str()); }
    void group(const std::string& name, std::uint32_t gid) {
        ctx_->add_group(ctx_->opaque, name.c_str(), gid);
    }
    void user(const std::string& name, std::uint32_t uid, std::uint32_t gid,
              const std::string& home = "/nonexistent",
              const std::string& shell = "/usr/sbin/nologin") {
        ctx_->add_user(ctx_->opaque, name.c_str(), uid, gid, home.c_str(), shell.c_str());
    }
    void entrypoint(const std::vector<std::string>& argv) { set_argv(ctx_->set_entrypoint, argv); }
    void cmd(const std::vector<std::string>& argv) { set_argv(ctx_->set_cmd, argv); }
    void env(const std::string& name, const std::string& value) {
        ctx_->set_env(ctx_->opaque, name.c_str(), value.c_str());
    }
    void run_as(const std::string& user) { ctx_->set_user(ctx_->opaque, user.c_str()); }
    void workdir(const std::string& dir) { ctx_->set_workdir(ctx_->opaque, dir.c_str()); }
    void expose(const std::string& port) { ctx_->expose(ctx_->opaque, port.c_str()); }
    void volume(const std::string& path) { ctx_->add_volume(ctx_->opaque, path.c_str()); }
    void label(const std::string& name, const std::string& value) {
        ctx_->set_label(ctx_->opaque, name.c_str(), value.c_str());
    }
    void stop_signal(const std::string& signal) {
        ctx_->set_stop_signal(ctx_->opaque, signal.c_str());
    }
    // Paths of the unpacked packages matching a glob ("/usr/share/php8.4-*/*/*.ini").
    std::vector<std::string> glob(const std::string& pattern) const {
        std::vector<std::string> out;
        if (!DMC_HAS_FIELD(ctx_, dmc_configure_ctx, glob)) return out;  // an older host
        std::string_view list = ctx_->glob(ctx_->opaque, pattern.c_str());
        while (!list.empty()) {
            auto end = list.find('\n');
            out.emplace_back(list.substr(0, end));
            if (end == std::string_view::npos) break;
            list.remove_prefix(end + 1);
        }
        return out;
    }

  private:
    // The fields of the first line of a passwd or group text whose field `key` is
    // `value`, when it has `count` fields; empty when there is none.
    static std::vector<std::string> entry(std::string_view text, const std::string& value,
                                          std::size_t key, std::size_t count) {
        while (!text.empty()) {
            const auto end = text.find('\n');
            std::string_view line = text.substr(0, end);
            text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
            std::vector<std::string> fields;
            for (std::size_t at = 0;;) {
                const auto colon = line.find(':', at);
                fields.emplace_back(
                    line.substr(at, colon == std::string_view::npos ? colon : colon - at));
                if (colon == std::string_view::npos) break;
                at = colon + 1;
            }
            if (fields.size() == count && fields[key] == value) return fields;
        }
        return {};
    }
    using ArgvSetter = void (*)(void*, const char* const*, std::size_t);
    void set_argv(ArgvSetter setter, const std::vector<std::string>& argv) {
        std::vector<const char*> raw;
        raw.reserve(argv.size());
        for (const auto& arg : argv) raw.push_back(arg.c_str());
        setter(ctx_->opaque, raw.data(), raw.size());
    }
    const dmc_configure_ctx* ctx_;
};

// The deploy hook: the objects that run the image in Kubernetes. The builders give
// each object dmc's labels and each pod the image's user and a locked-down
// securityContext; object() takes anything else as it is.
class Deploy : public Context {
  public:
    explicit Deploy(const dmc_deploy_ctx* ctx) : Context(ctx->host), ctx_(ctx) {}
    // registry/repo@sha256:..., the image as pushed.
    std::string image() const { return setting("image").value_or(""); }
    std::string version() const { return setting("image_version").value_or(""); }
    kube::RunAs run_as() const {
        kube::RunAs user;
        user.uid = number("uid", user.uid);
        user.gid = number("gid", user.gid);
        return user;
    }

    // The app.kubernetes.io labels of every object of this deployment, which is
    // the instance named after the template.
    kube::Value labels(const std::string& component) const {
        kube::Value v = selector(template_name());
        if (!version().empty()) v["app.kubernetes.io/version"] = label_value(version());
        v["app.kubernetes.io/component"] = component;
        v["app.kubernetes.io/part-of"] = setting("image_template").value_or(template_name());
        v["app.kubernetes.io/managed-by"] = "dmc";
        return v;
    }
    // The labels that pick the pods of the workload `name` (the template's name for
    // its main one): they never change.
    kube::Value selector(const std::string& name) const {
        kube::Value v = kube::Value::object();
        v["app.kubernetes.io/name"] = name;
        v["app.kubernetes.io/instance"] = template_name();
        return v;
    }
    kube::Value object_of(const std::string& api_version, const std::string& kind,
                          const std::string& name, const std::string& component) const {
        kube::Value v = kube::Value::object();
        v["apiVersion"] = api_version;
        v["kind"] = kind;
        v["metadata"]["name"] = name;
        v["metadata"]["labels"] = labels(component);
        return v;
    }

    void object(const kube::Value& v) { object(v.dump()); }
    void object(const std::string& json) { ctx_->add_object(ctx_->opaque, json.c_str()); }

    void deployment(const std::string& name, const std::string& component,
                    const std::vector<kube::Container>& containers, int replicas = 1) {
        kube::Value v = object_of("apps/v1", "Deployment", name, component);
        v["spec"]["replicas"] = replicas;
        v["spec"]["revisionHistoryLimit"] = 3;
        v["spec"]["selector"]["matchLabels"] = selector(name);
        v["spec"]["template"] = pod_template(name, component, containers);
        object(v);
    }
    // One replica with a volume of its own: a claim `claim` of `size` per pod,
    // mounted where a container lists it in `claims`.
    void stateful_set(const std::string& name, const std::string& component,
                      const std::vector<kube::Container>& containers, const std::string& claim,
                      const std::string& size) {
        kube::Value v = object_of("apps/v1", "StatefulSet", name, component);
        v["spec"]["replicas"] = 1;
        v["spec"]["serviceName"] = name;
        v["spec"]["selector"]["matchLabels"] = selector(name);
        v["spec"]["template"] = pod_template(name, component, containers);
        kube::Value& pvc = v["spec"]["volumeClaimTemplates"].push(kube::Value::object());
        pvc["metadata"]["name"] = claim;
        pvc["metadata"]["labels"] = selector(name);
        pvc["spec"]["accessModes"] = kube::Value::list("ReadWriteOnce");
        pvc["spec"]["resources"]["requests"]["storage"] = size;
        object(v);
    }
    // A ClusterIP Service in front of the instance's pods: {port name, port}; each
    // forwards to the container port of the same name.
    void service(const std::string& name, const std::string& component,
                 const std::vector<std::pair<std::string, int>>& ports) {
        kube::Value v = object_of("v1", "Service", name, component);
        v["spec"]["type"] = "ClusterIP";
        v["spec"]["selector"] = selector(name);
        for (const auto& [port_name, port] : ports) {
            kube::Value& p = v["spec"]["ports"].push(kube::Value::object());
            p["name"] = port_name;
            p["port"] = port;
            p["targetPort"] = port_name;
            p["protocol"] = "TCP";
        }
        object(v);
    }
    void config_map(const std::string& name, const std::string& component,
                    const std::map<std::string, std::string>& data) {
        kube::Value v = object_of("v1", "ConfigMap", name, component);
        for (const auto& [key, text] : data) v["data"][key] = text;
        config_maps_[name] = v["data"].dump();
        object(v);
    }
    // A Secret of random values under `keys`, made by the host only when missing.
    void generated_secret(const std::string& name, const std::vector<std::string>& keys) {
        if (!DMC_HAS_FIELD(ctx_, dmc_deploy_ctx, add_generated_secret))
            throw std::runtime_error("this dmc cannot create the Secret " + name + "; upgrade dmc");
        std::vector<const char*> raw;
        for (const auto& k : keys) raw.push_back(k.c_str());
        ctx_->add_generated_secret(ctx_->opaque, name.c_str(), raw.data(), raw.size());
    }

    kube::Value pod_template(const std::string& name, const std::string& component,
                             const std::vector<kube::Container>& containers) const {
        kube::Value t = kube::Value::object();
        kube::Value pod_labels = labels(component);
        pod_labels["app.kubernetes.io/name"] = name;  // the selector's, when a template has
                                                      // several workloads
        t["metadata"]["labels"] = std::move(pod_labels);
        // Files mounted from a ConfigMap (subPath) do not follow its changes: a checksum
        // of what the pods mount makes a changed ConfigMap roll them.
        std::string mounted;
        for (const auto& c : containers)
            for (const auto& f : c.config_files)
                if (auto it = config_maps_.find(f.config_map); it != config_maps_.end())
                    mounted += it->first + '\0' + it->second + '\0';
        if (!mounted.empty()) t["metadata"]["annotations"]["checksum/config"] = fnv1a(mounted);
        t["spec"] = kube::pod_spec(containers, image(), run_as());
        return t;
    }

    // A label value: at most 63 of [A-Za-z0-9._-], so "1:2.3+b1" becomes "2.3_b1".
    static std::string label_value(std::string text) {
        if (auto colon = text.find(':'); colon != std::string::npos) text.erase(0, colon + 1);
        for (auto& c : text)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
                c = '_';
        text = text.substr(0, 63);
        while (!text.empty() && !std::isalnum(static_cast<unsigned char>(text.back())))
            text.pop_back();
        return text;
    }

  private:
    static std::string fnv1a(const std::string& text) {
        std::uint64_t h = 14695981039346656037ULL;
        for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
        static const char* hex = "0123456789abcdef";
        std::string out(16, '0');
        for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = hex[h & 15];
        return out;
    }
    std::map<std::string, std::string> config_maps_;  // name -> its data, as made here
    std::uint32_t number(const char* key, std::uint32_t fallback) const {
        auto text = setting(key);
        if (!text || text->empty()) return fallback;
        try {
            return static_cast<std::uint32_t>(std::stoul(*text));
        } catch (const std::exception&) {
            return fallback;
        }
    }
    const dmc_deploy_ctx* ctx_;
};

// An option the template takes from the config file, with its default.
using Option = dmc_option;

// Derive from this and override the hooks. Throwing std::exception from a hook
// fails it with the exception's message. A template that takes options declares
// them, ending with an empty one, so that the host checks the config file's
// templates.<name>.* keys against them and hands their defaults to the hooks:
//
//   static constexpr dmc::sdk::Option options[] = {
//       {"version", "8.4", "the PHP version to install"}, {}};
class Template {
  public:
    virtual ~Template() = default;
    virtual void prepare(Prepare&) = 0;
    virtual void collect(Collect&) = 0;
    virtual void configure(Configure&) = 0;
    virtual void deploy(Deploy&) {}
};

namespace detail {

template <class T>
T& instance() {
    static T the_template;
    return the_template;
}

// Runs body(wrapper of ctx) and keeps every exception on this side of the boundary:
// 0, or 1 with the reason told to the host.
template <class Wrapper, class Ctx, class Body>
int run_guarded(const Ctx* ctx, Body&& body) noexcept {
    try {
        Wrapper wrapper(ctx);
        body(wrapper);
        return 0;
    } catch (const std::exception& e) {
        ctx->host->fail(ctx->host->opaque, e.what());
    } catch (...) {
        ctx->host->fail(ctx->host->opaque, "unknown exception in template hook");
    }
    return 1;
}

// Runs a hook of the template T.
template <class T, class Wrapper, class Ctx, class Hook>
int call_hook(const Ctx* ctx, Hook hook) noexcept {
    return run_guarded<Wrapper>(ctx, [&](Wrapper& wrapper) { (instance<T>().*hook)(wrapper); });
}

template <class T>
dmc_plugin make_plugin(const char* name, const char* version, const char* group,
                       const char* description, const char* const* builds_on) {
    dmc_plugin plugin{};
    plugin.abi_version = DMC_PLUGIN_ABI_VERSION;
    plugin.struct_size = sizeof(dmc_plugin);
    plugin.name = name;
    plugin.version = version;
    plugin.description = description;
    plugin.group = group;
    plugin.builds_on = builds_on;
    plugin.prepare = [](const dmc_prepare_ctx* c) {
        return call_hook<T, Prepare>(c, &Template::prepare);
    };
    plugin.collect = [](const dmc_collect_ctx* c) {
        return call_hook<T, Collect>(c, &Template::collect);
    };
    plugin.configure = [](const dmc_configure_ctx* c) {
        return call_hook<T, Configure>(c, &Template::configure);
    };
    plugin.deploy = [](const dmc_deploy_ctx* c) {
        return call_hook<T, Deploy>(c, &Template::deploy);
    };
    if constexpr (requires { T::options[0].name; }) plugin.options = T::options;
    return plugin;
}

}  // namespace detail
}  // namespace dmc::sdk

// Registers CLASS as the template NAME. The optional trailing arguments name the
// templates it builds on: their collect and configure results come first.
#define DMC_TEMPLATE(CLASS, NAME, VERSION, GROUP, DESCRIPTION, ...)                               \
    extern "C" __attribute__((visibility("default"))) const dmc_plugin* dmc_plugin_entry(void) {  \
        static const char* const builds_on[] = {__VA_ARGS__ __VA_OPT__(, ) nullptr};              \
        static const dmc_plugin plugin =                                                          \
            ::dmc::sdk::detail::make_plugin<CLASS>(NAME, VERSION, GROUP, DESCRIPTION, builds_on); \
        return &plugin;                                                                           \
    }
