// The MariaDB server from Debian, with its data in a volume.
//
// Why this image has a shell (busybox-static's sh, and nothing else):
//
//   On its first start with an empty volume, the image must create the system
//   tables (what mariadb-install-db, itself a shell script, does: mariadbd
//   --bootstrap fed with the SQL files in /usr/share/mariadb) and then set the
//   root password, database and user from the environment (MARIADB_*). mariadbd
//   cannot do the second part alone: --init-file and --bootstrap take plain SQL
//   and expand no variables, and SQL cannot read the environment either
//   (LOAD_FILE and LOAD DATA INFILE refuse files that are not world-readable,
//   and /proc/self/environ is 0400). So some program has to turn the
//   environment into SQL. A compiled helper would need a compiler for every
//   architecture; Debian's busybox-static is one static binary for each of them.
//
//   The image carries /usr/bin/busybox only, without applet links: there is no
//   /bin/sh, no /usr/bin/ls. The entrypoint is `/usr/bin/busybox sh
//   /usr/local/bin/mariadb-entrypoint` (written below): it checks the
//   environment, initialises an empty data directory once, and then execs
//   mariadbd, which runs as PID 1 without any shell left behind. Whoever can
//   exec into the container can still run `busybox ls` etc.; that is the price
//   of the initialisation. With -T the usual applet links are added on top.
//
// The environment, as the official MariaDB image knows it (each MARIADB_X may
// also be given as MYSQL_X, or read from a file named by MARIADB_X_FILE):
//   MARIADB_ROOT_PASSWORD            the root password (root@localhost and root@%)
//   MARIADB_RANDOM_ROOT_PASSWORD=1   generate one and print it once to the log
//   MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1  root without a password
//   MARIADB_ROOT_HOST                the host part of the second root account (%)
//   MARIADB_DATABASE                 a database to create
//   MARIADB_USER, MARIADB_PASSWORD   a user to create, with all rights on MARIADB_DATABASE
// Exactly one of the three root options is required on the first start: like
// the official image, the entrypoint refuses to start with a clear message
// rather than invent a password nobody would see. A bad value (a yes/no option
// that is neither, a user without a password, MARIADB_USER=root, ...) stops it
// with a message as well. Once the data directory is initialised, the
// variables are ignored. Not supported: *_PASSWORD_HASH, the time zone tables
// (the image has no zoneinfo), /docker-entrypoint-initdb.d, automatic upgrades.
#include <dmc/sdk.hpp>
#include <stdexcept>
#include <string>

#include "template_files.hpp"

namespace {

constexpr const char* kEntrypoint = "/usr/local/bin/mariadb-entrypoint";

// The version string mariadb-install-db writes to mariadb_upgrade_info ("11.8.9-MariaDB").
std::string upgrade_version(const dmc::sdk::Configure& c) {
    const std::string marker = "\" > \"$ldata/mariadb_upgrade_info\"";
    auto script = c.read("/usr/bin/mariadb-install-db");
    if (script) {
        auto end = script->find(marker);
        auto begin = end == std::string::npos ? end : script->rfind("printf \"", end);
        if (begin != std::string::npos) {
            begin += 8;
            std::string version = script->substr(begin, end - begin);
            if (!version.empty() && version.find_first_of("\"'\\$` \n") == std::string::npos)
                return version;
        }
    }
    throw std::runtime_error(
        "cannot find the version mariadb-install-db writes to mariadb_upgrade_info");
}

// The options of its Kubernetes objects; the host fills in their defaults.
constexpr dmc::sdk::Option kOptions[] = {
    {"database", "app", "the database made on the first start (MARIADB_DATABASE)"},
    {"user", "app", "the user made on the first start, owning the database (MARIADB_USER)"},
    {"storage", "1Gi", "the size of the data volume each pod claims"},
    {}};

class Mariadb : public dmc::sdk::Template {
  public:
    static constexpr const dmc::sdk::Option* options = kOptions;

    void prepare(dmc::sdk::Prepare& p) override {
        p.package("mariadb-server");
        p.package("busybox-static");  // the entrypoint's sh, see above
    }

    void collect(dmc::sdk::Collect& c) override {
        c.path("/usr/sbin/mariadbd");
        c.path("/usr/bin/busybox");
        // What the server and the initialisation read: character sets, error
        // messages in every language, the SQL of mariadb-install-db.
        c.path("/usr/share/mariadb/charsets");
        c.glob("/usr/share/mariadb/*/errmsg.sys");
        for (const char* sql : {"mariadb_system_tables.sql", "mariadb_performance_tables.sql",
                                "mariadb_system_tables_data.sql", "fill_help_tables.sql",
                                "maria_add_gis_sp_bootstrap.sql", "mariadb_sys_schema.sql"})
            c.path(std::string("/usr/share/mariadb/") + sql);
        // Every plugin but auth_pam*: PAM needs the setuid auth_pam_tool and
        // /etc/pam.d, neither of which belongs in this image.
        c.dlopened("/usr/lib/mysql/plugin/[!a]*.so");
        c.dlopened("/usr/lib/mysql/plugin/auth_[!p]*.so");
    }

    void configure(dmc::sdk::Configure& c) override {
        // mariadb-server's preinst makes mysql with the next free system ids: the host
        // reckons which a real install of the image's packages gives it.
        const auto mysql = c.system_user("mysql");
        c.dir("/etc/mysql");
        c.dir("/etc/mysql/conf.d");
        c.dir("/etc/mysql/mariadb.conf.d");
        c.file("/etc/mysql/my.cnf", dmc_files::my_cnf);
        c.dir("/usr/local/bin");
        // entrypoint.sh runs under busybox sh; there are no applet links, so every
        // tool is "$BB tool".
        const std::string script = dmc::sdk::substitute(
            std::string(dmc_files::entrypoint_sh),
            {{"@UID@", std::to_string(mysql.uid)}, {"@VERSION@", upgrade_version(c)}});
        c.file(kEntrypoint, script, 0755);
        c.dir("/var/lib/mysql", 0750, mysql.uid, mysql.gid);
        c.dir("/run/mysqld", 0755, mysql.uid, mysql.gid);
        c.volume("/var/lib/mysql");
        c.entrypoint({"/usr/bin/busybox", "sh", kEntrypoint});
        c.cmd({"mariadbd"});
        c.run_as("mysql");
        c.expose("3306/tcp");
    }

    // A StatefulSet with a volume claim for the data, its passwords in a Secret that
    // dmc makes once with random values, the server's settings in a ConfigMap, and a
    // Service. The image has no mariadb-admin, so the probes are TCP.
    void deploy(dmc::sdk::Deploy& d) override {
        namespace kube = dmc::sdk::kube;
        const std::string name = d.template_name();
        const std::string secret = name + "-credentials";
        d.generated_secret(secret, {"root-password", "password"});
        d.config_map(name + "-config", "database", {{"my.cnf", std::string(dmc_files::my_cnf)}});
        kube::Container c;
        c.name = "mariadb";
        c.ports = {{"mysql", 3306}};
        c.env = {{"MARIADB_DATABASE", d.option("database").value_or("app")},
                 {"MARIADB_USER", d.option("user").value_or("app")}};
        c.secret_env = {{"MARIADB_ROOT_PASSWORD", secret, "root-password"},
                        {"MARIADB_PASSWORD", secret, "password"}};
        c.readiness = kube::Probe::tcp("mysql");
        c.liveness = kube::Probe::tcp("mysql");
        c.liveness.initial_delay_seconds = 30;  // the first start initialises the data
        c.cpu = "250m";
        c.memory = "256Mi";
        c.writable = {"/tmp", "/run/mysqld"};
        c.config_files = {{name + "-config", "my.cnf", "/etc/mysql/my.cnf"}};
        c.claims = {{"data", "/var/lib/mysql"}};
        d.stateful_set(name, "database", {c}, "data", d.option("storage").value_or("1Gi"));
        d.service(name, "database", {{"mysql", 3306}});
    }
};

}  // namespace

DMC_TEMPLATE(Mariadb, "mariadb", "1.0", "base", "MariaDB database server on port 3306")
