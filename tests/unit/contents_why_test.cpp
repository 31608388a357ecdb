#include <gtest/gtest.h>

#include "contents/why.hpp"
#include "util/error.hpp"

namespace dmc::contents {
namespace {

rootfs::PackageRecord package(const std::string& control) {
    rootfs::PackageRecord p;
    p.version = "1.0";
    p.arch = "amd64";
    p.control = control;
    return p;
}

struct Fixture {
    rootfs::Manifest manifest;
    plugin::CollectResult collected;
    plugin::ConfigureResult configure;
    WhyInput input() {
        return {"/nonexistent", &manifest, {"app=1.0"}, &collected, &configure, files, "amd64"};
    }
    std::vector<std::string> files;
};

TEST(ContentsWhy, AVirtualPackageAndAlternativesOnTheWay) {
    Fixture f;
    f.manifest.packages["app"] =
        package("Package: app\nPre-Depends: mta | postfix\nDepends: libc6\n");
    f.manifest.packages["dma"] =
        package("Package: dma\nProvides: mta\nDepends: libssl3 | libssl1\n");
    f.manifest.packages["libssl1"] = package("Package: libssl1\n");
    f.manifest.packages["libc6"] = package("Package: libc6\n");
    const auto lines = why(f.input(), "libssl1");
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], "package libssl1 1.0 (amd64)");
    EXPECT_EQ(lines[1], "  app: asked for by the template");
    EXPECT_EQ(lines[2],
              "  app Pre-Depends: mta | postfix; mta is provided by dma; taken: dma; "
              "not taken: postfix");
    EXPECT_EQ(lines[3], "  dma Depends: libssl3 | libssl1; taken: libssl1; not taken: libssl3");
}

TEST(ContentsWhy, PathsByTheirRule) {
    Fixture f;
    f.manifest.packages["app"] = package("Package: app\n");
    f.manifest.files["/usr/bin/app"] = {.package = "app", .type = 'f'};
    f.manifest.files["/usr/share/app/a.txt"] = {.package = "app", .type = 'f'};
    f.manifest.files["/usr/share/doc/app/copyright"] = {.package = "app", .type = 'f'};
    f.collected.globs = {"/usr/share/app/*.txt"};
    f.configure.files = {{.path = "/etc/app.conf", .data = "x"}};
    f.files = {"/usr/bin/app", "/usr/share/app/a.txt"};
    EXPECT_EQ(why(f.input(), "/usr/share/app/a.txt").front(),
              "path /usr/share/app/a.txt: collected by the template's glob /usr/share/app/*.txt");
    EXPECT_EQ(why(f.input(), "/usr/share/app/a.txt")[1], "  from package app 1.0 (amd64)");
    EXPECT_EQ(why(f.input(), "/etc/app.conf").front(),
              "path /etc/app.conf: written by the image's configure hook");
    f.configure.written_by = {{"/etc/app.conf", "web"}};  // what the configure step records
    EXPECT_EQ(why(f.input(), "/etc/app.conf").front(),
              "path /etc/app.conf: written by the configure hook of template web");
    EXPECT_EQ(why(f.input(), "/var/lib/dmc/manifest").front().substr(0, 47),
              "path /var/lib/dmc/manifest: a base file dmc wri");
    EXPECT_THROW(why(f.input(), "/usr/share/doc/app/copyright"), Error);
    EXPECT_THROW(why(f.input(), "nosuch"), Error);
}

}  // namespace
}  // namespace dmc::contents
