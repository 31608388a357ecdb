// What the collect step picks from a rootfs: collected paths with the links on
// their way, whole trees, globs, a package's files, and the ELF closure of it all.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "contents/files.hpp"
#include "elf_fixture.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc::contents {
namespace {

using Paths = std::vector<std::string>;

class FilesTest : public ::testing::Test {
  protected:
    TempDir temp;
    rootfs::Manifest manifest;

    fs::path root() const { return temp.path(); }
    void record(const std::string& path, char type, const std::string& package) {
        rootfs::FileRecord r;
        r.type = type;
        r.package = package;
        manifest.files[path] = r;
        manifest.packages[package].version = "1";
    }
    void file(const std::string& path, const std::string& bytes, const std::string& package) {
        test::write_bytes(root() / path.substr(1), bytes);
        record(path, 'f', package);
    }
    void dir(const std::string& path, const std::string& package) {
        fs::create_directories(root() / path.substr(1));
        record(path, 'd', package);
    }
    void link(const std::string& path, const std::string& target, const std::string& package) {
        fs::create_directories((root() / path.substr(1)).parent_path());
        fs::create_symlink(target, root() / path.substr(1));
        record(path, 'l', package);
    }
    Paths pick(plugin::CollectResult collected) {
        FilesRequest r{root(), &manifest, std::move(collected), "x86_64-linux-gnu", "x86_64", "t"};
        return image_files(r);
    }
    void SetUp() override {
        link("/lib64", "usr/lib64", "base-files");
        file("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
             test::make_elf({.soname = "ld-linux-x86-64.so.2"}), "libc6");
        link("/usr/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
             "libc6");
        file("/usr/lib/x86_64-linux-gnu/libc.so.6",
             test::make_elf({.needed = {"ld-linux-x86-64.so.2"}, .soname = "libc.so.6"}), "libc6");
        file("/usr/lib/x86_64-linux-gnu/libz.so.1", test::make_elf({.soname = "libz.so.1"}),
             "zlib1g");
        file(
            "/usr/sbin/server",
            test::make_elf({.interpreter = "/lib64/ld-linux-x86-64.so.2", .needed = {"libc.so.6"}}),
            "srv");
        dir("/etc/srv", "srv");
        file("/etc/srv/srv.conf", "x=1\n", "srv");
        dir("/etc/srv/conf.d", "srv");
        file("/etc/srv/conf.d/a.conf", "a\n", "srv");
        file("/usr/lib/srv/modules/mod_z.so",
             test::make_elf({.needed = {"libz.so.1"}, .soname = "mod_z.so"}), "srv");
        file("/usr/share/doc/srv/copyright", "(c)\n", "srv");
    }
};

bool has(const Paths& paths, const std::string& p) {
    return std::find(paths.begin(), paths.end(), p) != paths.end();
}

TEST_F(FilesTest, AProgramBringsItsLibrariesAndTheLinksToThem) {
    const Paths got = pick({.paths = {"/usr/sbin/server"}});
    EXPECT_TRUE(has(got, "/usr/sbin/server"));
    EXPECT_TRUE(has(got, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
    EXPECT_TRUE(has(got, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"));
    EXPECT_TRUE(has(got, "/lib64"));  // the interpreter's path goes through it
    EXPECT_FALSE(has(got, "/usr/lib/x86_64-linux-gnu/libz.so.1"));
    EXPECT_FALSE(has(got, "/usr/share/doc/srv/copyright"));
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
}

TEST_F(FilesTest, ADirectoryBringsItsTreeAndGlobsMayMatchNothing) {
    const Paths got =
        pick({.paths = {"/etc/srv"}, .globs = {"/etc/srv/conf.d/*.conf", "/nothing/*"}});
    EXPECT_TRUE(has(got, "/etc/srv/srv.conf"));
    EXPECT_TRUE(has(got, "/etc/srv/conf.d/a.conf"));
    EXPECT_EQ(glob_manifest(manifest, "/etc/srv/*.conf"), Paths{"/etc/srv/srv.conf"});
}

TEST_F(FilesTest, DlopenedModulesBringTheirOwnLibraries) {
    const Paths got =
        pick({.paths = {"/usr/sbin/server"}, .dlopened = {"/usr/lib/srv/modules/*.so"}});
    EXPECT_TRUE(has(got, "/usr/lib/srv/modules/mod_z.so"));
    EXPECT_TRUE(has(got, "/usr/lib/x86_64-linux-gnu/libz.so.1"));
}

TEST_F(FilesTest, APackagesFilesAndWhatIsMissing) {
    const Paths got = pick({.package_files = {"zlib1g"}});
    EXPECT_EQ(got, Paths{"/usr/lib/x86_64-linux-gnu/libz.so.1"});
    EXPECT_THROW(pick({.paths = {"/usr/sbin/absent"}}), Error);
    EXPECT_THROW(pick({.package_files = {"not-installed"}}), Error);
}

}  // namespace
}  // namespace dmc::contents
