#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "contents/loader.hpp"
#include "elf_fixture.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc::contents {
namespace {

class LoaderTest : public ::testing::Test {
  protected:
    void text(const std::string& path, const std::string& content) {
        fs::create_directories((root() / path.substr(1)).parent_path());
        std::ofstream(root() / path.substr(1)) << content;
    }
    void library(const std::string& path, const std::string& soname) {
        test::ElfSpec spec;
        spec.soname = soname;
        fs::create_directories((root() / path.substr(1)).parent_path());
        test::write_bytes(root() / path.substr(1), test::make_elf(spec));
    }
    LoaderFiles files(const std::vector<std::string>& paths) {
        return loader_files(root(), paths, "x86_64-linux-gnu", 0x0303);
    }
    const fs::path& root() const { return temp_.path(); }
    TempDir temp_{"dmc-loader-test"};
};

TEST_F(LoaderTest, LibrariesOnlyTheConfigurationNamesGetACache) {
    text("/etc/ld.so.conf.d/extra.conf", "/opt/extra/lib/\n");
    text("/etc/ld.so.conf.d/x86_64-linux-gnu.conf", "/usr/lib/x86_64-linux-gnu\n");
    library("/opt/extra/lib/libextra.so.1.2", "libextra.so.1");
    fs::create_symlink("libextra.so.1.2", root() / "opt/extra/lib/libextra.so.1");
    library("/opt/extra/lib/libunused.so.2", "libunused.so.2");
    library("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc.so.6");

    const auto loader = files({"/opt/extra/lib/libextra.so.1", "/opt/extra/lib/libextra.so.1.2",
                               "/usr/lib/x86_64-linux-gnu/libc.so.6"});
    ASSERT_EQ(loader.cache.size(), 1u);  // not libc (a default directory), not the unused one
    EXPECT_EQ(loader.cache[0].name, "libextra.so.1");
    EXPECT_EQ(loader.cache[0].path, "/opt/extra/lib/libextra.so.1");
    EXPECT_EQ(loader.cache[0].flags, 0x0303);
    EXPECT_TRUE(loader.default_conf);  // no /etc/ld.so.conf: Debian's is meant
    EXPECT_EQ(loader.conf_files,
              (std::vector<std::string>{"/etc/ld.so.conf.d/extra.conf",
                                        "/etc/ld.so.conf.d/x86_64-linux-gnu.conf"}));
}

TEST_F(LoaderTest, AnImageWithoutSuchLibrariesNeedsNoLoaderFiles) {
    text("/etc/ld.so.conf", "/opt/extra/lib\n");
    library("/opt/extra/lib/libextra.so.1", "libextra.so.1");
    library("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc.so.6");
    const auto none = files({"/usr/lib/x86_64-linux-gnu/libc.so.6"});
    EXPECT_TRUE(none.cache.empty());
    EXPECT_TRUE(none.conf_files.empty());
    const auto some = files({"/opt/extra/lib/libextra.so.1"});
    ASSERT_EQ(some.cache.size(), 1u);
    EXPECT_FALSE(some.default_conf);
    EXPECT_EQ(some.conf_files, std::vector<std::string>{"/etc/ld.so.conf"});
}

}  // namespace
}  // namespace dmc::contents
