// nginx from Debian, serving the default site as an unprivileged user.
#include <dmc/sdk.hpp>
#include <stdexcept>

#include "template_files.hpp"

namespace {

class Nginx : public dmc::sdk::Template {
  public:
    void prepare(dmc::sdk::Prepare& p) override {
        p.package("nginx");
        p.want("system-users");  // www-data
    }

    void collect(dmc::sdk::Collect& c) override {
        c.path("/usr/sbin/nginx");
        c.path("/etc/nginx");
        c.path("/usr/share/nginx/html");
        c.dlopened("/usr/lib/nginx/modules/*.so");
    }

    void configure(dmc::sdk::Configure& c) override {
        const auto www = c.system_user("www-data");
        c.file("/etc/nginx/nginx.conf", dmc_files::nginx_conf);
        c.remove("/etc/nginx/sites-enabled/default");
        c.file("/etc/nginx/sites-available/default", dmc_files::default_site_conf);
        c.symlink("/etc/nginx/sites-available/default", "/etc/nginx/sites-enabled/default");
        c.dir("/etc/nginx/modules-enabled");
        c.dir("/etc/nginx/conf.d");
        // What nginx's postinst would do: the default page goes to the document root.
        c.copy("/usr/share/nginx/html/index.html", "/var/www/html/index.nginx-debian.html");
        c.dir("/var/www/html");
        c.dir("/var/lib/nginx", 0750, www.uid, www.gid);
        c.dir("/var/log/nginx", 0750, www.uid, www.gid);
        c.symlink("/dev/stdout", "/var/log/nginx/access.log");
        c.symlink("/dev/stderr", "/var/log/nginx/error.log");
        c.entrypoint({"/usr/sbin/nginx", "-e", "stderr"});
        c.run_as("www-data");
        c.workdir("/var/www/html");
        c.expose("8080/tcp");
        c.stop_signal("SIGQUIT");
    }

    // A Deployment and a Service; the site's configuration in a ConfigMap, so that
    // it can be changed without a new image.
    void deploy(dmc::sdk::Deploy& d) override {
        namespace kube = dmc::sdk::kube;
        const std::string name = d.template_name();
        d.config_map(name + "-config", "web-server",
                     {{"default.conf", std::string(dmc_files::default_site_conf)}});
        kube::Container c;
        c.name = "nginx";
        c.ports = {{"http", 8080}};
        c.readiness = kube::Probe::http("/", "http");
        c.cpu = "50m";
        c.memory = "32Mi";
        c.writable = {"/tmp", "/var/lib/nginx"};  // the pid file and the temp paths
        c.config_files = {{name + "-config", "default.conf", "/etc/nginx/sites-available/default"}};
        d.deployment(name, "web-server", {c});
        d.service(name, "web-server", {{"http", 8080}});
    }
};

}  // namespace

DMC_TEMPLATE(Nginx, "nginx", "1.0", "core", "nginx web server, default site on port 8080")
