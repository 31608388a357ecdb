// The ld.so.cache dmc writes, read by the real thing: this machine's ldconfig -p
// and its dynamic loader; its order checked against the cache ldconfig wrote here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "arch/arch.hpp"
#include "elf/ld_cache.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using namespace dmc::elf;

namespace {

std::string output_of(const std::string& command) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
    return out;
}

std::int32_t amd64() { return dmc::arch::arch_info("amd64").ld_cache_flags; }

TEST(LdCache, ComparesNamesAsGlibcDoes) {
    EXPECT_GT(ld_cache_compare("libfoo.so.10", "libfoo.so.9"), 0);  // numbers, not text
    EXPECT_GT(ld_cache_compare("libz3.so.4", "libzstd.so.1"), 0);   // a digit sorts last
    EXPECT_GT(ld_cache_compare("libzstd.so.1", "libz.so.1"), 0);
    EXPECT_LT(ld_cache_compare("liba.so", "liba.so.1"), 0);
    EXPECT_EQ(ld_cache_compare("libc.so.6", "libc.so.6"), 0);
    EXPECT_GT(ld_cache_compare("libc.so.6", "libc.so."), 0);
}

TEST(LdCache, OrdersItsEntriesAsThisMachinesLdconfig) {
    std::error_code ec;
    if (!fs::exists("/etc/ld.so.cache", ec)) GTEST_SKIP() << "no /etc/ld.so.cache here";
    const auto host = read_ld_cache(dmc::read_file("/etc/ld.so.cache"), "/etc/ld.so.cache");
    ASSERT_GT(host.size(), 20u);
    auto shuffled = host;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
    const auto ours = read_ld_cache(ld_cache_bytes(shuffled), "dmc's");
    ASSERT_EQ(ours.size(), host.size());
    for (std::size_t i = 0; i < host.size(); ++i) ASSERT_EQ(ours[i].name, host[i].name) << i;
    // The same entries, the same bytes.
    EXPECT_EQ(ld_cache_bytes(shuffled), ld_cache_bytes(host));
}

TEST(LdCache, RefusesWhatIsNoCache) {
    EXPECT_THROW(read_ld_cache("ld.so-1.7.0", "old"), dmc::Error);
    std::string cut = ld_cache_bytes({{"libx.so.1", "/opt/libx.so.1", amd64()}});
    EXPECT_THROW(read_ld_cache(cut.substr(0, 60), "cut"), dmc::Error);
}

class LdCacheOnDisk : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("dmc-ldcache-" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    fs::path dir_;
};

TEST_F(LdCacheOnDisk, LdconfigListsWhatItHolds) {
    if (output_of("uname -m") != "x86_64\n" || !fs::exists("/sbin/ldconfig"))
        GTEST_SKIP() << "needs an amd64 machine with ldconfig";
    const fs::path cache = dir_ / "ld.so.cache";
    dmc::write_file_atomic(
        cache,
        ld_cache_bytes({{"libdmcb.so.3", "/opt/blas/libdmcb.so.3", amd64()},
                        {"libdmca.so.1", "/usr/lib/x86_64-linux-gnu/dmc/libdmca.so.1", amd64()}}));
    const std::string listed = output_of("/sbin/ldconfig -p -C " + cache.string() + " 2>&1");
    EXPECT_NE(listed.find("2 libs found in cache"), std::string::npos) << listed;
    EXPECT_NE(
        listed.find("libdmca.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/dmc/libdmca.so.1"),
        std::string::npos)
        << listed;
    EXPECT_NE(listed.find("libdmcb.so.3 (libc6,x86-64) => /opt/blas/libdmcb.so.3"),
              std::string::npos)
        << listed;
}

TEST_F(LdCacheOnDisk, TheLoaderFindsALibraryThroughIt) {
    if (geteuid() != 0) GTEST_SKIP() << "chroot needs root";
    if (output_of("uname -m") != "x86_64\n" || !fs::exists("/usr/bin/xz"))
        GTEST_SKIP() << "needs an amd64 machine with xz";
    // xz in a root of its own, liblzma where only the cache says.
    const fs::path root = dir_ / "root";
    const std::string script =
        "set -e; r='" + root.string() +
        "'; mkdir -p \"$r/usr/bin\" \"$r/lib64\" \"$r/usr/lib/x86_64-linux-gnu\" "
        "\"$r/opt/lzma\" \"$r/etc\"; cp -L /usr/bin/xz \"$r/usr/bin/\"; "
        "cp -L /lib64/ld-linux-x86-64.so.2 \"$r/lib64/\"; "
        "cp -L /lib/x86_64-linux-gnu/libc.so.6 \"$r/usr/lib/x86_64-linux-gnu/\"; "
        "cp -L /lib/x86_64-linux-gnu/liblzma.so.5 \"$r/opt/lzma/\"";
    dmc::write_file_atomic(dir_ / "setup.sh", script);
    ASSERT_EQ(std::system(("bash " + (dir_ / "setup.sh").string()).c_str()), 0);
    const std::string run = "chroot " + root.string() + " /usr/bin/xz --version 2>&1";
    EXPECT_EQ(output_of(run).find("xz (XZ Utils)"), std::string::npos)
        << "xz ran without the cache: the test proves nothing";
    dmc::write_file_atomic(root / "etc/ld.so.cache",
                           ld_cache_bytes({{"libaaa.so.1", "/opt/none/libaaa.so.1", amd64()},
                                           {"liblzma.so.5", "/opt/lzma/liblzma.so.5", amd64()},
                                           {"liblzma.so.10", "/opt/none/liblzma.so.10", amd64()},
                                           {"libm.so.6", "/opt/none/libm.so.6", amd64()},
                                           {"libzzz.so.9", "/opt/none/libzzz.so.9", amd64()}}));
    const std::string out = output_of(run);
    EXPECT_NE(out.find("xz (XZ Utils)"), std::string::npos) << out;
}

}  // namespace
