// nginx from Debian, serving the default site as an unprivileged user.
#include <dmc/sdk.hpp>

#include <stdexcept>

namespace {

constexpr std::uint32_t kWwwData = 33;  // Debian's fixed uid/gid for www-data

constexpr const char* kNginxConf = R"(# Written by dmc for a container: no daemon, logs to stdout/stderr,
# everything writable lives under /tmp and /var/lib/nginx (owned by www-data).
worker_processes auto;
pid /tmp/nginx.pid;
daemon off;
error_log stderr notice;
include /etc/nginx/modules-enabled/*.conf;

events {
    worker_connections 768;
}

http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    server_tokens off;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /dev/stdout;
    client_body_temp_path /var/lib/nginx/body;
    proxy_temp_path /var/lib/nginx/proxy;
    fastcgi_temp_path /var/lib/nginx/fastcgi;
    uwsgi_temp_path /var/lib/nginx/uwsgi;
    scgi_temp_path /var/lib/nginx/scgi;
    gzip on;
    include /etc/nginx/conf.d/*.conf;
    include /etc/nginx/sites-enabled/*;
}
)";

constexpr const char* kDefaultSite = R"(# The default site, on an unprivileged port.
server {
    listen 8080 default_server;
    listen [::]:8080 default_server;
    root /var/www/html;
    index index.html index.htm index.nginx-debian.html;
    server_name _;
    location / {
        try_files $uri $uri/ =404;
    }
}
)";

class Nginx : public dmc::sdk::Template {
public:
    void prepare(dmc::sdk::Prepare& p) override { p.package("nginx"); }

    void collect(dmc::sdk::Collect& c) override {
        c.path("/usr/sbin/nginx");
        c.path("/etc/nginx");
        c.path("/usr/share/nginx/html");
        c.dlopened("/usr/lib/nginx/modules/*.so");
    }

    void configure(dmc::sdk::Configure& c) override {
        c.group("www-data", kWwwData);
        c.user("www-data", kWwwData, kWwwData, "/var/www");
        c.file("/etc/nginx/nginx.conf", kNginxConf);
        c.remove("/etc/nginx/sites-enabled/default");
        c.file("/etc/nginx/sites-available/default", kDefaultSite);
        c.symlink("/etc/nginx/sites-available/default", "/etc/nginx/sites-enabled/default");
        c.dir("/etc/nginx/modules-enabled");
        c.dir("/etc/nginx/conf.d");
        // What nginx's postinst would do: the default page goes to the document root.
        auto page = c.read("/usr/share/nginx/html/index.html");
        if (!page) throw std::runtime_error("the nginx packages ship no /usr/share/nginx/html/index.html");
        c.file("/var/www/html/index.nginx-debian.html", *page);
        c.dir("/var/www/html");
        c.dir("/var/lib/nginx", 0750, kWwwData, kWwwData);
        c.dir("/var/log/nginx", 0750, kWwwData, kWwwData);
        c.symlink("/dev/stdout", "/var/log/nginx/access.log");
        c.symlink("/dev/stderr", "/var/log/nginx/error.log");
        c.entrypoint({"/usr/sbin/nginx", "-e", "stderr"});
        c.run_as("www-data");
        c.workdir("/var/www/html");
        c.expose("8080/tcp");
        c.stop_signal("SIGQUIT");
    }
};

}  // namespace

DMC_TEMPLATE(Nginx, "nginx", "1.0", "core", "nginx web server, default site on port 8080")
