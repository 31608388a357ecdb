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

namespace {

constexpr const char* kSite = R"(# Adminer, with PHP passed to php-fpm on the loopback interface.
server {
    listen 8080 default_server;
    listen [::]:8080 default_server;
    server_name _;
    root /usr/share/adminer;
    client_max_body_size 64m;
    location = / {
        include fastcgi_params;
        fastcgi_param SCRIPT_FILENAME /usr/share/adminer/adminer.php;
        fastcgi_param SCRIPT_NAME /;
        fastcgi_pass 127.0.0.1:9000;
    }
    location / {
        return 404;
    }
}
)";

std::string supervisor(const std::string& v) {
    return R"(<?php
// The adminer image's entrypoint: see the comment in the template's source.
$servers = [
    'php-fpm' => ['/usr/sbin/php-fpm)" + v + R"(', ['--nodaemonize', '--force-stderr']],
    'nginx' => ['/usr/sbin/nginx', ['-e', 'stderr']],
];
$role = $argv[1] ?? 'all';
if ($role !== 'all' && !isset($servers[$role])) {
    fwrite(STDERR, "adminer: unknown role '$role'; use all, nginx or php-fpm\n");
    exit(64);
}
if ($role !== 'all') {
    pcntl_exec($servers[$role][0], $servers[$role][1]);
    fwrite(STDERR, "adminer: cannot start {$servers[$role][0]}\n");
    exit(127);
}
$children = [];
foreach ($servers as $name => [$binary, $args]) {
    $pid = pcntl_fork();
    if ($pid === 0) {
        pcntl_exec($binary, $args);
        fwrite(STDERR, "adminer: cannot start $binary\n");
        exit(127);
    }
    $children[$pid] = $name;
}
$stopping = false;
$stop = function () use (&$children, &$stopping) {
    $stopping = true;
    foreach ($children as $pid => $name) posix_kill($pid, SIGQUIT);
};
pcntl_async_signals(true);
// No SA_RESTART: the wait below must return to let the handler run.
foreach ([SIGTERM, SIGINT, SIGQUIT] as $signal) pcntl_signal($signal, $stop, false);
$status = 0;
while ($children) {
    $pid = pcntl_wait($wait_status);  // also reaps orphans: this is PID 1
    if ($pid <= 0) {
        if (pcntl_get_last_error() === PCNTL_EINTR) continue;
        break;
    }
    if (!isset($children[$pid])) continue;
    $name = $children[$pid];
    unset($children[$pid]);
    $code = pcntl_wifexited($wait_status) ? pcntl_wexitstatus($wait_status)
                                          : 128 + pcntl_wtermsig($wait_status);
    if (!$stopping) {
        fwrite(STDERR, "adminer: $name exited with status $code; stopping\n");
        $status = $code ?: 1;
        $stop();
    }
}
exit($status);
)";
}

// The PHP version of the php template this image builds on: its option, which the
// host hands to every template of the image with php's default filled in.
std::string php_version(const dmc::sdk::Context& c) {
    const std::string v = c.option_of("php", "version").value_or("");
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
        c.file("/etc/nginx/sites-available/default", kSite);
        c.file("/usr/local/lib/dmc/supervisor.php", supervisor(v));
        c.entrypoint({"/usr/bin/php" + v, "/usr/local/lib/dmc/supervisor.php"});
        c.cmd({"all"});
        c.run_as("www-data");
        c.workdir("/usr/share/adminer");
        c.expose("8080/tcp");
        c.stop_signal("SIGTERM");
    }
};

}  // namespace

DMC_TEMPLATE(Adminer, "adminer", "1.0", "app", "Adminer database manager on nginx and php-fpm",
             "php", "nginx")
