// The MariaDB server from Debian, with its data in a volume.
#include <dmc/sdk.hpp>

namespace {

constexpr std::uint32_t kMysql = 999;

class Mariadb : public dmc::sdk::Template {
public:
    void prepare(dmc::sdk::Prepare& p) override { p.package("mariadb-server"); }

    void collect(dmc::sdk::Collect& c) override {
        c.path("/usr/sbin/mariadbd");
        c.path("/etc/mysql");
        c.path("/usr/share/mariadb");
        c.dlopened("/usr/lib/mysql/plugin/*.so");
    }

    void configure(dmc::sdk::Configure& c) override {
        c.group("mysql", kMysql);
        c.user("mysql", kMysql, kMysql, "/var/lib/mysql");
        c.dir("/var/lib/mysql", 0750, kMysql, kMysql);
        c.dir("/run/mysqld", 0755, kMysql, kMysql);
        c.volume("/var/lib/mysql");
        c.entrypoint({"/usr/sbin/mariadbd"});
        c.run_as("mysql");
        c.expose("3306/tcp");
    }
};

}  // namespace

DMC_TEMPLATE(Mariadb, "mariadb", "1.0", "base", "MariaDB database server on port 3306")
