// Adminer on nginx and php-fpm, in one image and one layer. It builds on the
// php and nginx templates and adds a small supervisor, written in PHP and run by
// the php CLI already in the image, so that no shell is needed:
//   - `run IMAGE` (role "all") starts php-fpm and nginx, forwards SIGTERM, SIGINT
//     and SIGQUIT to both as a graceful SIGQUIT, reaps every child (it is PID 1),
//     and stops the other one, with its exit status, when either dies;
//   - `run IMAGE nginx` or `run IMAGE php-fpm` execs just that server, for two
//     containers of one Kubernetes pod sharing the loopback interface.
#include <dmc/sdk.hpp>
#include <stdexcept>

#include "template_files.hpp"

namespace {

// The PHP version of the php template this image builds on: its option, which the
// host hands to every template of the image with php's default filled in.
std::string php_version(const dmc::sdk::Context& c) {
    std::string v = c.option_of("php", "version").value_or("");
    if (v.empty() || v.find_first_not_of("0123456789.") != std::string::npos)
        throw std::runtime_error("the php template gives no PHP version ('" + v + "')");
    return v;
}

class Adminer : public dmc::sdk::Template {
  public:
    void prepare(dmc::sdk::Prepare& p) override { p.package("adminer"); }

    void collect(dmc::sdk::Collect& c) override {
        c.path("/usr/share/adminer/adminer.php");
        c.path("/usr/share/adminer/designs");
    }

    void configure(dmc::sdk::Configure& c) override {
        const std::string v = php_version(c);
        c.file("/etc/nginx/sites-available/default", dmc_files::site_conf);
        c.file(
            "/usr/local/lib/dmc/supervisor.php",
            dmc::sdk::substitute(std::string(dmc_files::supervisor_php), {{"@PHP_VERSION@", v}}));
        c.entrypoint({"/usr/bin/php" + v, "/usr/local/lib/dmc/supervisor.php"});
        c.cmd({"all"});
        c.run_as("www-data");
        c.workdir("/usr/share/adminer");
        c.expose("8080/tcp");
        c.stop_signal("SIGTERM");
    }

    // One pod, a container per role of the image: nginx and php-fpm share the pod's
    // loopback interface, so each can be probed, restarted and sized on its own.
    void deploy(dmc::sdk::Deploy& d) override {
        namespace kube = dmc::sdk::kube;
        const std::string name = d.template_name();
        d.config_map(name + "-config", "web-ui",
                     {{"site.conf", std::string(dmc_files::site_conf)}});
        kube::Container web;
        web.name = "nginx";
        web.args = {"nginx"};
        web.ports = {{"http", 8080}};
        web.readiness = kube::Probe::http("/", "http");
        web.cpu = "50m";
        web.memory = "32Mi";
        web.writable = {"/tmp", "/var/lib/nginx"};
        web.config_files = {{name + "-config", "site.conf", "/etc/nginx/sites-available/default"}};
        kube::Container fpm;
        fpm.name = "php-fpm";
        fpm.args = {"php-fpm"};
        fpm.ports = {{"fastcgi", 9000}};
        fpm.readiness = kube::Probe::tcp("fastcgi");
        fpm.cpu = "100m";
        fpm.memory = "64Mi";
        fpm.writable = {"/tmp", "/run/php", "/var/lib/php/sessions"};
        d.deployment(name, "web-ui", {web, fpm});
        d.service(name, "web-ui", {{"http", 8080}});
    }
};

}  // namespace

DMC_TEMPLATE(Adminer, "adminer", "1.0", "app", "Adminer database manager on nginx and php-fpm",
             "php", "nginx")
