// dmc itself as a micro image, and the CronJob that keeps a registry's images
// current from inside a cluster: the original tool's nightly batch
// (`dmc -a update`, then `dmc -g core,base,app -H REGISTRY`), as two steps of one
// Job, with the cache on a volume claim.
//
// The image holds the running dmc and the templates it loaded, with their
// libraries, gpgv and the archive keyrings, the CA bundle and the archive sources
// of the machine that built it. dmc is linked against that machine's libraries,
// so the image is built from the same Debian release (-D bookworm on bookworm).
#include <dmc/sdk.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "template_files.hpp"

namespace {

constexpr std::uint32_t kUid = 10001;  // no user of Debian's base-passwd
constexpr const char* kCache = "/var/cache/dmc";

constexpr dmc::sdk::Option kOptions[] = {
    {"schedule", "17 3 * * *", "when the CronJob runs the batch (cron syntax)"},
    {"groups", "core,base,app", "the template groups the batch builds (-g)"},
    {"registry", "", "the registry the batch pushes to (-H); empty: where dmc's image is"},
    {"registry_secret", "dmc-registry",
     "the Secret (a docker config.json, type kubernetes.io/dockerconfigjson) with its credentials"},
    {"cache_size", "20Gi", "the size of the cache's volume claim"},
    {}};

std::string read_host_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path + " on this machine");
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// The release of the machine dmc runs on, whose libraries dmc is linked against.
std::string host_codename() {
    std::ifstream in("/etc/os-release");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VERSION_CODENAME=", 0) == 0) {
            std::string v = line.substr(17);
            if (!v.empty() && v.front() == '"') v = v.substr(1, v.size() - 2);
            return v;
        }
    return "";
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

// An archive source as it may go into a pushed image: one with a password in a URL
// (user:secret@host) is refused rather than published.
std::string without_credentials(const std::string& file, const std::string& text) {
    for (std::size_t at = text.find("://"); at != std::string::npos;
         at = text.find("://", at + 3)) {
        const std::size_t end = text.find_first_of("/ \t\n", at + 3);
        const std::size_t user = text.find('@', at + 3);
        if (user != std::string::npos && (end == std::string::npos || user < end))
            throw std::runtime_error("the archive source " + file +
                                     " has credentials in a URL; dmc does not put them into an "
                                     "image: use a mirror without them, or an auth.conf");
    }
    return text;
}

class Dmc : public dmc::sdk::Template {
  public:
    static constexpr const dmc::sdk::Option* options = kOptions;

    void prepare(dmc::sdk::Prepare& p) override {
        const std::string host = host_codename();
        if (!host.empty() && host != p.dist())
            throw std::runtime_error("this dmc was built on Debian " + host +
                                     " and needs its libraries: build the dmc image with -D " +
                                     host);
        // The libraries of dmc and its plugins, by the names of bookworm and trixie.
        const bool t64 = p.dist() != "bookworm";
        p.packages({"libc6", "libstdc++6", "libgcc-s1", "zlib1g", "libzstd1", "libisal2", "gpgv",
                    "debian-archive-keyring"});
        if (t64)
            p.packages({"libboost-program-options1.83.0", "libspdlog1.15", "libfmt10",
                        "libyaml-cpp0.8", "libssl3t64", "libcurl4t64", "libarchive13t64"});
        else
            p.packages({"libboost-program-options1.74.0", "libspdlog1.10", "libfmt9",
                        "libyaml-cpp0.7", "libssl3", "libcurl4", "libarchive13"});
        p.want("ca-certificates");
    }

    void collect(dmc::sdk::Collect& c) override {
        // The sonames dmc needs (readelf -d): each brings its own libraries along.
        for (const char* lib :
             {"libboost_program_options.so.*", "libspdlog.so.*", "libfmt.so.*", "libyaml-cpp.so.*",
              "libcrypto.so.3", "libcurl.so.4", "libarchive.so.13", "libz.so.1", "libzstd.so.1",
              "libisal.so.2", "libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libc.so.6"})
            c.glob(std::string("/usr/lib/*-linux-gnu/") + lib);
        c.path("/usr/bin/gpgv");
        c.path("/usr/share/keyrings");
    }

    void configure(dmc::sdk::Configure& c) override {
        const auto exe = c.setting("dmc_executable");
        if (!exe || exe->empty()) throw std::runtime_error("the host does not say where dmc is");
        c.dir("/usr/lib/dmc");
        c.dir("/usr/lib/dmc/plugins");
        c.file("/usr/bin/dmc", read_host_file(*exe), 0755);
        for (const auto& plugin : lines(c.setting("dmc_plugins").value_or(""))) {
            const std::string name = plugin.substr(plugin.rfind('/') + 1);
            c.file("/usr/lib/dmc/plugins/" + name, read_host_file(plugin), 0644);
        }
        // The archive sources of the machine that built the image: the default mirror.
        c.dir("/etc/apt");
        c.dir("/etc/apt/sources.list.d");
        for (const auto& f : {std::string("/etc/apt/sources.list")}) {
            std::ifstream in(f);
            if (in) c.file(f, without_credentials(f, read_host_file(f)));
        }
        for (const auto& f : c.setting("host_apt_sources").has_value()
                                 ? lines(*c.setting("host_apt_sources"))
                                 : std::vector<std::string>{})
            c.file(f, without_credentials(f, read_host_file(f)));
        c.dir("/etc/dmc");
        c.file("/etc/dmc/dmc.yaml", dmc_files::dmc_yaml);
        c.group("dmc", kUid);
        c.user("dmc", kUid, kUid, kCache);
        c.dir(kCache, 0750, kUid, kUid);
        c.env("DMC_CACHEDIR", kCache);
        c.env("HOME", kCache);
        // The lock goes with the cache, as the config next to which it would go is
        // in the read-only image.
        c.env("DMC_LOCK_FILE", std::string(kCache) + "/dmc.lock");
        c.volume(kCache);
        c.entrypoint({"/usr/bin/dmc"});
        c.cmd({"--help"});
        c.run_as("dmc");
        c.workdir(kCache);
    }

    // The batch as a CronJob: `dmc -a update` as the init container, then the build
    // and push; a ServiceAccount whose Role allows exactly what dmc applies.
    void deploy(dmc::sdk::Deploy& d) override {
        namespace kube = dmc::sdk::kube;
        const std::string name = d.template_name();
        std::string registry = d.option("registry").value_or("");
        if (registry.empty()) {
            const std::string image = d.image();
            registry = image.substr(0, image.rfind('/'));  // host[:port][/namespace]
        }
        const std::string secret = d.option("registry_secret").value_or("dmc-registry");

        d.config_map(name + "-config", "builder", {{"dmc.yaml", std::string(dmc_files::dmc_yaml)}});
        kube::Value pvc = d.object_of("v1", "PersistentVolumeClaim", name + "-cache", "builder");
        pvc["spec"]["accessModes"] = kube::Value::list("ReadWriteOnce");
        pvc["spec"]["resources"]["requests"]["storage"] = d.option("cache_size").value_or("20Gi");
        d.object(pvc);

        d.object(d.object_of("v1", "ServiceAccount", name, "builder"));
        kube::Value role = d.object_of("rbac.authorization.k8s.io/v1", "Role", name, "builder");
        auto rule = [&](const std::string& group, const std::vector<std::string>& resources,
                        const std::vector<std::string>& verbs) {
            kube::Value& r = role["rules"].push(kube::Value::object());
            r["apiGroups"] = kube::Value::list(group);
            r["resources"] = kube::Value::strings(resources);
            r["verbs"] = kube::Value::strings(verbs);
        };
        // Server-side apply is get and patch, and create for what it makes new;
        // generated Secrets are get and create; the rollout wait reads pods and events.
        const std::vector<std::string> apply = {"get", "create", "patch"};
        rule("", {"configmaps", "services", "persistentvolumeclaims", "serviceaccounts"}, apply);
        rule("", {"secrets"}, {"get", "create"});
        rule("", {"pods", "events"}, {"list"});
        rule("apps", {"deployments", "statefulsets"}, apply);
        rule("batch", {"cronjobs"}, apply);
        rule("rbac.authorization.k8s.io", {"roles", "rolebindings"}, apply);
        d.object(role);
        kube::Value binding =
            d.object_of("rbac.authorization.k8s.io/v1", "RoleBinding", name, "builder");
        binding["roleRef"]["apiGroup"] = "rbac.authorization.k8s.io";
        binding["roleRef"]["kind"] = "Role";
        binding["roleRef"]["name"] = name;
        kube::Value& subject = binding["subjects"].push(kube::Value::object());
        subject["kind"] = "ServiceAccount";
        subject["name"] = name;
        d.object(binding);

        auto step = [&](const std::string& step_name, std::vector<std::string> args) {
            kube::Container c;
            c.name = step_name;
            c.args = std::move(args);
            c.cpu = "500m";
            c.memory = "512Mi";
            c.writable = {"/tmp"};
            c.existing_claims = {{name + "-cache", kCache}};
            c.config_files = {{name + "-config", "dmc.yaml", "/etc/dmc/dmc.yaml"}};
            c.secret_files = {{secret, ".dockerconfigjson", "/etc/dmc/docker/config.json"}};
            c.env = {{"DOCKER_CONFIG", "/etc/dmc/docker"}};
            return c;
        };
        kube::Value job = d.object_of("batch/v1", "CronJob", name, "builder");
        job["spec"]["schedule"] = d.option("schedule").value_or("17 3 * * *");
        job["spec"]["concurrencyPolicy"] = "Forbid";
        job["spec"]["successfulJobsHistoryLimit"] = 3;
        job["spec"]["failedJobsHistoryLimit"] = 3;
        kube::Value& spec = job["spec"]["jobTemplate"]["spec"];
        spec["backoffLimit"] = 1;
        kube::Value& pod = spec["template"];
        pod["metadata"]["labels"] = d.labels("builder");
        pod["spec"] = kube::pod_spec(
            {step("build", {"-g", d.option("groups").value_or("core,base,app"), "-H", registry})},
            d.image(), d.run_as(), {step("update", {"-a", "update"})});
        pod["spec"]["serviceAccountName"] = name;
        pod["spec"]["automountServiceAccountToken"] = true;  // dmc deploys with it
        pod["spec"]["restartPolicy"] = "Never";
        d.object(job);
    }
};

}  // namespace

DMC_TEMPLATE(Dmc, "dmc", "1.0", "tools", "dmc itself, and a CronJob that keeps images current")
