// php-fpm from Debian, serving FastCGI on port 9000.
#include <dmc/sdk.hpp>

namespace {

class Php : public dmc::sdk::Template {
public:
    void prepare(dmc::sdk::Prepare& p) override {
        const std::string v = p.option("version").value_or("8.4");
        p.package("php" + v + "-fpm");
        p.package("php" + v + "-cli");
    }

    void collect(dmc::sdk::Collect& c) override {
        const std::string v = c.option("version").value_or("8.4");
        c.path("/usr/sbin/php-fpm" + v);
        c.path("/usr/bin/php" + v);
        c.path("/etc/php/" + v);
        c.dlopened("/usr/lib/php/*/*.so");
    }

    void configure(dmc::sdk::Configure& c) override {
        const std::string v = c.option("version").value_or("8.4");
        c.group("www-data", 33);
        c.user("www-data", 33, 33, "/var/www");
        c.symlink("/usr/bin/php" + v, "/usr/bin/php");
        c.entrypoint({"/usr/sbin/php-fpm" + v, "--nodaemonize", "--force-stderr"});
        c.expose("9000/tcp");
        c.stop_signal("SIGQUIT");
    }
};

}  // namespace

DMC_TEMPLATE(Php, "php", "1.0", "core", "php-fpm FastCGI server on port 9000")
