// lighttpd built from Debian's lighttpd source package (the .dsc of trixie's
// Sources index, Debian's patches applied) with meson, natively or cross-compiled:
// for another arch the build uses Debian's cross toolchain and the :arch build
// dependencies, with a meson cross file made from the host's GNU type. No emulation
// runs during the build.
#include <dmc/sdk.hpp>

#include "template_files.hpp"

namespace {

// A meson cross file when CROSS_COMPILE is set (abi.h lists the build's variables).
constexpr const char* kConfigure = R"(cross=
if [ -n "$CROSS_COMPILE" ]; then
    cpu=${DEB_HOST_GNU_TYPE%%-*}
    cat >/build/cross.ini <<EOF
[binaries]
c = '${CROSS_COMPILE}gcc'
ar = '${CROSS_COMPILE}ar'
strip = '${CROSS_COMPILE}strip'
pkg-config = 'pkg-config'
[properties]
pkg_config_libdir = '/usr/lib/$DEB_HOST_GNU_TYPE/pkgconfig:/usr/share/pkgconfig'
[host_machine]
system = 'linux'
cpu_family = '$cpu'
cpu = '$cpu'
endian = 'little'
EOF
    cross="--cross-file /build/cross.ini"
fi
meson setup /build/out --prefix=/usr --buildtype=release -Dmoduledir=lib/lighttpd $cross)";

class LighttpdSrc : public dmc::sdk::Template {
  public:
    void prepare(dmc::sdk::Prepare& p) override {
        p.packages({"libc6", "libcrypt1", "libpcre2-8-0", "zlib1g"});
        p.want("system-users");  // www-data
        p.source_package("lighttpd");
        p.build_depends("meson, ninja-build, pkgconf:native, libpcre2-dev, zlib1g-dev");
        p.build_step("configure", kConfigure);
        p.build_step("build", "ninja -C /build/out -j\"$JOBS\"");
        p.build_step("install",
                     "DESTDIR=\"$DESTDIR\" meson install -C /build/out --no-rebuild --strip");
    }

    void collect(dmc::sdk::Collect& c) override {
        c.path("/usr/sbin/lighttpd");
        c.dlopened("/usr/lib/lighttpd/mod_*.so");
    }

    void configure(dmc::sdk::Configure& c) override {
        c.system_user("www-data");
        c.file("/etc/lighttpd/lighttpd.conf", dmc_files::lighttpd_conf);
        c.file("/var/www/html/index.html", dmc_files::index_html);
        c.entrypoint({"/usr/sbin/lighttpd", "-D", "-f", "/etc/lighttpd/lighttpd.conf"});
        c.run_as("www-data");
        c.expose("8080/tcp");
    }
};

}  // namespace

DMC_TEMPLATE(LighttpdSrc, "lighttpd-src", "1.0", "source",
             "lighttpd built from Debian's source, natively or cross-compiled, port 8080")
