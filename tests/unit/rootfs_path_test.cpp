#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "rootfs/path.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc {
namespace {

class RootfsPathTest : public ::testing::Test {
  protected:
    void file(const std::string& image_path, const std::string& content = "x") {
        const fs::path host = root() / image_path.substr(1);
        fs::create_directories(host.parent_path());
        std::ofstream(host) << content;
    }
    void dir(const std::string& image_path) {
        fs::create_directories(root() / image_path.substr(1));
    }
    void link(const std::string& image_path, const std::string& target) {
        const fs::path host = root() / image_path.substr(1);
        fs::create_directories(host.parent_path());
        fs::create_symlink(target, host);
    }
    const fs::path& root() const { return temp_.path(); }

    TempDir temp_{"dmc-path-test"};
};

TEST(NormalizeImagePath, CollapsesSlashesDotsAndClampsDotDot) {
    EXPECT_EQ(normalize_image_path(""), "/");
    EXPECT_EQ(normalize_image_path("/"), "/");
    EXPECT_EQ(normalize_image_path("usr/lib"), "/usr/lib");
    EXPECT_EQ(normalize_image_path("//usr//./lib/"), "/usr/lib");
    EXPECT_EQ(normalize_image_path("/usr/lib/../bin"), "/usr/bin");
    EXPECT_EQ(normalize_image_path("/../../etc/passwd"), "/etc/passwd");
    EXPECT_EQ(normalize_image_path("/a/b/../../../c/."), "/c");
}

TEST_F(RootfsPathTest, ResolvesPlainFilesAndDirectories) {
    file("/usr/bin/tool");
    EXPECT_EQ(resolve_in_root(root(), "/usr/bin/tool"), "/usr/bin/tool");
    EXPECT_EQ(resolve_in_root(root(), "//usr/./bin//tool"), "/usr/bin/tool");
    EXPECT_EQ(resolve_in_root(root(), "/usr/bin"), "/usr/bin");
    EXPECT_EQ(resolve_in_root(root(), "/"), "/");
    EXPECT_EQ(resolve_in_root(root(), "usr/bin/tool"), "/usr/bin/tool");
}

TEST_F(RootfsPathTest, MissingPathsAndFilesUsedAsDirectoriesDoNotResolve) {
    file("/usr/bin/tool");
    EXPECT_EQ(resolve_in_root(root(), "/usr/bin/other"), std::nullopt);
    EXPECT_EQ(resolve_in_root(root(), "/usr/bin/tool/x"), std::nullopt);
    EXPECT_EQ(resolve_in_root(root(), "/usr/bin/tool/."), std::nullopt);
    EXPECT_EQ(resolve_in_root(root() / "no-such-root", "/"), std::nullopt);
}

TEST_F(RootfsPathTest, FollowsRelativeLinks) {
    file("/usr/lib/libfoo.so.1.2.3");
    link("/usr/lib/libfoo.so.1", "libfoo.so.1.2.3");
    link("/usr/lib/libfoo.so", "./libfoo.so.1");
    EXPECT_EQ(resolve_in_root(root(), "/usr/lib/libfoo.so"), "/usr/lib/libfoo.so.1.2.3");
    EXPECT_EQ(resolve_in_root(root(), "/usr/lib/libfoo.so", false), "/usr/lib/libfoo.so");
    // follow_last only spares the last component.
    link("/libdir", "usr/lib");
    EXPECT_EQ(resolve_in_root(root(), "/libdir/libfoo.so", false), "/usr/lib/libfoo.so");
}

TEST_F(RootfsPathTest, AbsoluteLinksStayInsideTheRoot) {
    file("/lib/x86_64-linux-gnu/libreal.so.1", "inside");
    link("/usr/lib/libabs.so", "/lib/x86_64-linux-gnu/libreal.so.1");
    EXPECT_EQ(resolve_in_root(root(), "/usr/lib/libabs.so"), "/lib/x86_64-linux-gnu/libreal.so.1");
    // The host has /etc/passwd and /bin/sh; the root does not, so these dangle.
    link("/etc/passwd-link", "/etc/passwd");
    link("/bin-link", "/bin");
    EXPECT_EQ(resolve_in_root(root(), "/etc/passwd-link"), std::nullopt);
    EXPECT_EQ(resolve_in_root(root(), "/bin-link/sh"), std::nullopt);
}

TEST_F(RootfsPathTest, DotDotIsClampedAtTheRoot) {
    file("/etc/hostname");
    link("/usr/share/escape", "../../../../../../etc/hostname");
    EXPECT_EQ(resolve_in_root(root(), "/usr/share/escape"), "/etc/hostname");
    EXPECT_EQ(resolve_in_root(root(), "/../../../etc/hostname"), "/etc/hostname");
    // A name outside the root that exists on the host is still not found.
    link("/up", "../../../../../../../../tmp");
    EXPECT_EQ(resolve_in_root(root(), "/up"), std::nullopt);
}

TEST_F(RootfsPathTest, DotDotAppliesAfterTheLinksBeforeIt) {
    file("/x/y/w");
    link("/a/link", "/x/y/z");
    dir("/x/y/z");
    // Physically /a/link is /x/y/z, so "/a/link/.." is /x/y, not /a.
    EXPECT_EQ(resolve_in_root(root(), "/a/link/../w"), "/x/y/w");
    EXPECT_EQ(resolve_in_root(root(), "/a/link/.."), "/x/y");
}

TEST_F(RootfsPathTest, MergedUsrDirectoryLinks) {
    file("/usr/lib/x86_64-linux-gnu/libc.so.6");
    link("/lib", "usr/lib");
    link("/lib64", "usr/lib64");
    link("/usr/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    file("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    EXPECT_EQ(resolve_in_root(root(), "/lib/x86_64-linux-gnu/libc.so.6"),
              "/usr/lib/x86_64-linux-gnu/libc.so.6");
    EXPECT_EQ(resolve_in_root(root(), "/lib64/ld-linux-x86-64.so.2"),
              "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
}

TEST_F(RootfsPathTest, LinkLoopsAndLongChainsFail) {
    link("/a", "b");
    link("/b", "a");
    EXPECT_EQ(resolve_in_root(root(), "/a"), std::nullopt);
    link("/self", "self");
    EXPECT_EQ(resolve_in_root(root(), "/self/x"), std::nullopt);

    // 40 links are allowed, as in Linux; 41 are not.
    file("/chain/target");
    link("/chain/l0", "target");
    for (int i = 1; i <= 40; ++i) link("/chain/l" + std::to_string(i), "l" + std::to_string(i - 1));
    EXPECT_EQ(resolve_in_root(root(), "/chain/l39"), "/chain/target");
    EXPECT_EQ(resolve_in_root(root(), "/chain/l40"), std::nullopt);
}

TEST_F(RootfsPathTest, SymlinkChainListsEveryLinkThenTheTarget) {
    file("/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3");
    link("/lib", "usr/lib");
    link("/usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so.1.2.3");
    EXPECT_EQ(symlink_chain(root(), "/lib/x86_64-linux-gnu/libfoo.so.1"),
              (std::vector<std::string>{"/lib", "/usr/lib/x86_64-linux-gnu/libfoo.so.1",
                                        "/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3"}));
    EXPECT_EQ(symlink_chain(root(), "/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3"),
              (std::vector<std::string>{"/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3"}));
    EXPECT_TRUE(symlink_chain(root(), "/lib/x86_64-linux-gnu/missing.so").empty());
}

TEST_F(RootfsPathTest, SymlinkChainFollowsLinksInsideLinkTargets) {
    // /opt/current -> /opt/v2 (absolute) and /opt/v2/bin/tool -> ../libexec/tool;
    // /opt/current is traversed twice but listed once.
    file("/opt/v2/libexec/tool");
    link("/opt/current", "/opt/v2");
    link("/opt/v2/bin/tool", "../libexec/tool");
    link("/usr/bin/tool", "/opt/current/bin/tool");
    EXPECT_EQ(symlink_chain(root(), "/usr/bin/tool"),
              (std::vector<std::string>{"/usr/bin/tool", "/opt/current", "/opt/v2/bin/tool",
                                        "/opt/v2/libexec/tool"}));
}

}  // namespace
}  // namespace dmc
