// php-fpm from Debian, serving FastCGI on port 9000 as www-data, with the
// extensions a typical PHP web application needs.
#include <dmc/sdk.hpp>
#include <stdexcept>

namespace {

// Extension packages besides php-common's (ctype, pdo, ...); session and json
// are built into PHP itself.
const char* const kExtensionPackages[] = {"mysql", "opcache", "mbstring", "xml",
                                          "curl",  "gd",      "zip",      "intl"};

std::string fpm_conf(const std::string& v) {
    return "; Written by dmc for a container: foreground, logs to stderr.\n"
           "[global]\n"
           "pid = /tmp/php-fpm.pid\n"
           "error_log = /proc/self/fd/2\n"
           "log_limit = 8192\n"
           "daemonize = no\n"
           "include = /etc/php/" +
           v + "/fpm/pool.d/*.conf\n";
}

// No user/group: the master already runs as www-data (the image's user). In an
// image of its own, php-fpm serves FastCGI to the network; inside another
// template's image (adminer's), only to that image's web server on loopback.
std::string pool(bool own_image) {
    return std::string("[www]\n") +
           (own_image ? "listen = 9000\n"
                      : "listen = 127.0.0.1:9000\nlisten.allowed_clients = 127.0.0.1\n") +
           "pm = dynamic\n"
           "pm.max_children = 10\n"
           "pm.start_servers = 2\n"
           "pm.min_spare_servers = 1\n"
           "pm.max_spare_servers = 3\n"
           "clear_env = no\n"
           "catch_workers_output = yes\n"
           "decorate_workers_output = no\n"
           "php_value[session.save_path] = /var/lib/php/sessions\n";
}

// The options this template takes; the host fills in their defaults.
constexpr dmc::sdk::Option kOptions[] = {
    {"version", "8.4", "the PHP version to install, as in Debian's package names (8.4)"}, {}};

std::string php_version(const dmc::sdk::Context& c) {
    // An older host hands no defaults: the declared one, then.
    std::string v = c.option("version").value_or(kOptions[0].default_value);
    if (v.empty() || v.find_first_not_of("0123456789.") != std::string::npos)
        throw std::runtime_error("option templates.php.version='" + v +
                                 "' is not a PHP version such as 8.4");
    return v;
}

// "; priority=10" in a module's ini, as phpenmod reads it; 20 by default.
std::string priority_of(const std::string& ini) {
    auto at = ini.find("priority=");
    if (at == std::string::npos) return "20";
    std::string digits;
    for (auto i = at + 9; i < ini.size() && std::isdigit(static_cast<unsigned char>(ini[i])); ++i)
        digits += ini[i];
    return digits.empty() ? "20" : digits;
}

class Php : public dmc::sdk::Template {
  public:
    static constexpr const dmc::sdk::Option* options = kOptions;

    void prepare(dmc::sdk::Prepare& p) override {
        const std::string v = php_version(p);
        p.package("php" + v + "-fpm");
        p.package("php" + v + "-cli");
        for (const char* ext : kExtensionPackages) p.package("php" + v + "-" + ext);
        p.want("tzdata");           // PHP's date functions use the system zoneinfo
        p.want("ca-certificates");  // for curl and openssl streams
        p.want("system-users");     // www-data
    }

    void collect(dmc::sdk::Collect& c) override {
        const std::string v = php_version(c);
        c.path("/usr/sbin/php-fpm" + v);
        c.path("/usr/bin/php" + v);
        c.path("/etc/php/" + v);
        c.dlopened("/usr/lib/php/*/*.so");
    }

    void configure(dmc::sdk::Configure& c) override {
        const std::string v = php_version(c);
        const std::string etc = "/etc/php/" + v;
        const auto www = c.system_user("www-data");

        // What the maintainer scripts would do: php.ini from the production
        // template, and every module enabled as phpenmod does.
        for (const char* sapi : {"fpm", "cli"})
            c.copy("/usr/lib/php/" + v + "/php.ini-production", etc + "/" + sapi + "/php.ini");
        const auto modules = c.glob("/usr/share/php" + v + "-*/*/*.ini");
        if (modules.empty()) throw std::runtime_error("no PHP module ini files in the rootfs");
        for (const auto& path : modules) {
            const std::string name = path.substr(path.rfind('/') + 1);
            auto text = c.read(path);
            if (!text) continue;
            c.file(etc + "/mods-available/" + name, *text);
            const std::string link = priority_of(*text) + "-" + name;
            for (const char* sapi : {"fpm", "cli"})
                c.symlink("../../mods-available/" + name, etc + "/" + sapi + "/conf.d/" + link);
        }
        c.file(etc + "/fpm/php-fpm.conf", fpm_conf(v));
        c.remove(etc + "/fpm/pool.d");
        c.file(etc + "/fpm/pool.d/www.conf", pool(c.image_template() == c.template_name()));

        // The alternatives symlinks update-alternatives would make.
        c.symlink("php" + v, "/usr/bin/php");
        c.symlink("php-fpm" + v, "/usr/sbin/php-fpm");
        c.dir("/var/www/html", 0755, www.uid, www.gid);
        c.dir("/run/php", 0755, www.uid, www.gid);
        c.dir("/var/lib/php/sessions", 01733, www.uid, www.gid);

        c.entrypoint({"/usr/sbin/php-fpm" + v, "--nodaemonize", "--force-stderr"});
        c.run_as("www-data");
        c.workdir("/var/www/html");
        c.expose("9000/tcp");
        c.stop_signal("SIGQUIT");
    }

    // A Deployment of php-fpm and a Service for FastCGI on 9000; the PHP settings
    // users tune (php.ini overrides) in a ConfigMap.
    void deploy(dmc::sdk::Deploy& d) override {
        namespace kube = dmc::sdk::kube;
        const std::string v = php_version(d);
        const std::string name = d.template_name();
        d.config_map(name + "-config", "application-server",
                     {{"zz-dmc.ini",
                       "; PHP settings of this deployment, read after php.ini\n"
                       "memory_limit = 128M\n"
                       "upload_max_filesize = 8M\n"
                       "post_max_size = 8M\n"}});
        kube::Container c;
        c.name = "php-fpm";
        c.ports = {{"fastcgi", 9000}};
        c.readiness = kube::Probe::tcp("fastcgi");
        c.cpu = "100m";
        c.memory = "64Mi";
        c.writable = {"/tmp", "/run/php", "/var/lib/php/sessions"};
        c.config_files = {
            {name + "-config", "zz-dmc.ini", "/etc/php/" + v + "/fpm/conf.d/99-dmc.ini"}};
        d.deployment(name, "application-server", {c});
        d.service(name, "application-server", {{"fastcgi", 9000}});
    }
};

}  // namespace

DMC_TEMPLATE(Php, "php", "1.0", "core", "php-fpm FastCGI server on port 9000")
