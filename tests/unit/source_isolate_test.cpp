// The isolation of build steps, in a small root made of this machine's own programs:
// an unprivileged user without capabilities, a read-only root, only /build writable,
// no network but loopback, a PID namespace of its own, and the time limit.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "source/isolate.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using namespace dmc::source;

namespace {

class Isolate : public ::testing::Test {
  protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "the isolation needs root";
        dir_ = fs::temp_directory_path() / ("dmc-isolate-" + std::to_string(getpid()));
        fs::remove_all(dir_);
        root_ = dir_ / "root";
        work_ = dir_ / "work";
        fs::create_directories(work_);
        // The programs the setup and the tests run, with their libraries (ldd).
        const std::string script = "set -e; r='" + root_.string() +
                                   "'; mkdir -p \"$r\"/proc \"$r\"/tmp \"$r\"/build; "
                                   "for p in /usr/bin/setpriv /usr/bin/env /bin/sh /usr/bin/id "
                                   "/usr/bin/cat /usr/bin/sleep "
                                   "/usr/bin/touch /usr/bin/yes /usr/bin/head; do "
                                   "  for f in $(readlink -f $p) $(ldd $p | grep -o '/[^ ]*'); do "
                                   "    mkdir -p \"$r$(dirname $f)\"; cp -L $f \"$r$f\"; done; "
                                   "  mkdir -p \"$r$(dirname $p)\"; cp -L $p \"$r$p\"; done";
        ASSERT_EQ(std::system(("bash -c \"" + escape(script) + "\"").c_str()), 0);
        chown(work_.c_str(), kBuildUid, kBuildUid);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    static std::string escape(const std::string& s) {
        std::string out;
        for (char c : s) {
            if (c == '"' || c == '\\' || c == '$' || c == '`') out += '\\';
            out += c;
        }
        return out;
    }
    IsolatedRun run(const std::string& command, int seconds = 30) {
        return run_isolated({root_,
                             work_,
                             "/build",
                             command,
                             {"X=1"},
                             std::chrono::seconds(seconds),
                             dir_ / "step.log"});
    }
    fs::path dir_, root_, work_;
};

TEST_F(Isolate, RunsAsAnUnprivilegedUserWithoutCapabilities) {
    auto r = run("id -u; id -g; id -G; cat /proc/self/status");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.substr(0, 18), "65534\n65534\n65534\n") << r.output;
    EXPECT_NE(r.output.find("CapEff:\t0000000000000000"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("NoNewPrivs:\t1"), std::string::npos) << r.output;
}

TEST_F(Isolate, OnlyTheBuildDirectoryIsWritable) {
    auto r = run("touch /build/made && cat /proc/self/mountinfo && touch /usr/x");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("Read-only file system"), std::string::npos) << r.output;
    struct stat st {};
    ASSERT_EQ(::stat((work_ / "made").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, kBuildUid);
    EXPECT_FALSE(fs::exists(root_ / "usr" / "x"));
}

TEST_F(Isolate, HasNoNetworkAndItsOwnProcesses) {
    auto r = run("cat /proc/net/dev; echo pid=$$; echo X=$X; echo HOME=$HOME");
    ASSERT_EQ(r.status, 0) << r.output;
    // Only loopback, and the step is the first process of its PID namespace.
    EXPECT_NE(r.output.find("lo:"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("eth"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("ens"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("pid=1\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("X=1\nHOME=/build\n"), std::string::npos) << r.output;
}

TEST_F(Isolate, PassesTheExitStatusAndStopsAtTheTimeLimit) {
    auto failed = run("echo before; exit 3");
    EXPECT_EQ(failed.status, 3);
    EXPECT_FALSE(failed.timed_out);
    EXPECT_NE(failed.output.find("before"), std::string::npos);
    auto slow = run("sleep 20", 1);
    EXPECT_TRUE(slow.timed_out) << slow.output;
}

TEST_F(Isolate, KeepsAllOfALongLogAndItsLastMegabyte) {
    // A build prints more than a pipe's worth and more than dmc keeps in memory.
    auto r = run("yes compiling | head -c 3000000; echo; echo end");
    ASSERT_EQ(r.status, 0) << r.output.substr(0, 200);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(fs::file_size(dir_ / "step.log"), 3000005u);
    EXPECT_LE(r.output.size(), 1u << 20);
    EXPECT_TRUE(r.output.ends_with("ling\n\nend\n")) << r.output.substr(r.output.size() - 40);
}

}  // namespace
