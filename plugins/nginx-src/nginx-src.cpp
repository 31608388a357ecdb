// nginx built from its source with a reduced module set: the HTTP core with static
// files, gzip, rewrite (PCRE2), proxy and FastCGI, TLS and HTTP/2; none of the other
// modules Debian's packages carry. The source is the release tarball Debian's
// nginx source package uses (its .orig.tar.gz), pinned by its SHA256 and fetched
// from the archive mirror's pool; the libraries it links come from trixie's
// packages of the image's arch.
#include <dmc/sdk.hpp>
#include <string>

#include "template_files.hpp"

namespace {

// nginx's configure runs the programs it compiles (auto/types/sizeof), so it does
// not cross-compile: this template builds for the machine's own arch.
constexpr const char* kConfigure =
    "./configure --prefix=/usr/share/nginx --sbin-path=/usr/sbin/nginx"
    " --conf-path=/etc/nginx/nginx.conf --error-log-path=stderr --http-log-path=/dev/stdout"
    " --pid-path=/tmp/nginx.pid --lock-path=/tmp/nginx.lock"
    " --http-client-body-temp-path=/var/lib/nginx/body --http-proxy-temp-path=/var/lib/nginx/proxy"
    " --http-fastcgi-temp-path=/var/lib/nginx/fastcgi"
    " --with-threads --with-http_ssl_module --with-http_v2_module --with-pcre-jit"
    " --without-http_ssi_module --without-http_userid_module --without-http_auth_basic_module"
    " --without-http_mirror_module --without-http_autoindex_module --without-http_geo_module"
    " --without-http_map_module --without-http_split_clients_module --without-http_referer_module"
    " --without-http_uwsgi_module --without-http_scgi_module --without-http_grpc_module"
    " --without-http_memcached_module --without-http_empty_gif_module --without-http_browser_module"
    " --without-http_upstream_hash_module --without-http_upstream_ip_hash_module"
    " --without-http_upstream_least_conn_module --without-http_upstream_random_module"
    " --without-http_upstream_keepalive_module --without-http_upstream_zone_module"
    " --with-cc-opt='-O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE'"
    " --with-ld-opt='-Wl,-z,relro -Wl,-z,now -pie'";

constexpr dmc::sdk::Option kOptions[] = {
    {"tarball", "pool/main/n/nginx/nginx_1.26.3.orig.tar.gz",
     "the nginx release tarball: a URL, or a path on the archive mirror"},
    {"sha256", "69ee2b237744036e61d24b836668aad3040dda461fe6f570f1787eab570c75aa",
     "the tarball's SHA256"},
    {"configure_flags", "", "more flags for nginx's configure"},
    {"build_depends", "", "more build dependencies (Build-Depends relations)"},
    {}};

std::string option(const dmc::sdk::Context& c, std::size_t i) {
    return c.option(kOptions[i].name).value_or(kOptions[i].default_value);
}

class NginxSrc : public dmc::sdk::Template {
  public:
    static constexpr const dmc::sdk::Option* options = kOptions;

    void prepare(dmc::sdk::Prepare& p) override {
        // The run-time libraries, for the ELF closure of the built binary.
        p.packages({"libc6", "libcrypt1", "libpcre2-8-0", "zlib1g"});
        p.package(p.dist() == "bookworm" ? "libssl3" : "libssl3t64");
        p.want("system-users");  // www-data
        p.source_tarball(option(p, 0), option(p, 1));
        p.build_depends("libpcre2-dev, libssl-dev, zlib1g-dev");
        if (const auto more = option(p, 3); !more.empty()) p.build_depends(more);
        p.build_step("configure", kConfigure + (" " + option(p, 2)));
        p.build_step("build", "make -j\"$JOBS\"");
        // Stripped, as Debian's packages are (nginx's configure adds -g).
        p.build_step("install",
                     "make install DESTDIR=\"$DESTDIR\" && "
                     "\"${CROSS_COMPILE}strip\" --strip-unneeded \"$DESTDIR/usr/sbin/nginx\"");
    }

    void collect(dmc::sdk::Collect& c) override {
        c.path("/usr/sbin/nginx");
        c.path("/etc/nginx/mime.types");
        c.path("/usr/share/nginx/html");
    }

    void configure(dmc::sdk::Configure& c) override {
        const auto www = c.system_user("www-data");
        c.file("/etc/nginx/nginx.conf", dmc_files::nginx_conf);
        c.dir("/var/lib/nginx", 0750, www.uid, www.gid);
        c.entrypoint({"/usr/sbin/nginx", "-e", "stderr"});
        c.run_as("www-data");
        c.workdir("/usr/share/nginx/html");
        c.expose("8080/tcp");
        c.stop_signal("SIGQUIT");
    }
};

}  // namespace

DMC_TEMPLATE(NginxSrc, "nginx-src", "1.0", "source",
             "nginx built from source with a reduced module set, port 8080")
