#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"

namespace fs = std::filesystem;
using namespace dmc;

namespace {

fs::path script(const fs::path& dir, const std::string& name, const std::string& body) {
    const fs::path p = dir / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    ::chmod(p.c_str(), 0755);
    return p;
}

TEST(UtilProcess, FindsProgramsOnlyInAbsolutePathEntries) {
    TempDir dir;
    script(dir.path(), "helper", "exit 0");
    EXPECT_EQ(find_executable("helper", "/nonexistent:" + dir.path().string()),
              (dir.path() / "helper").string());
    // Empty and relative entries would mean the current directory: never searched.
    const fs::path here = fs::current_path();
    fs::current_path(dir.path());
    EXPECT_EQ(find_executable("helper", ":/nonexistent"), "");
    EXPECT_EQ(find_executable("helper", ""), "");
    EXPECT_EQ(find_executable("helper", "."), "");
    fs::current_path(here);
    EXPECT_EQ(find_executable((dir.path() / "helper").string(), ""),
              (dir.path() / "helper").string());
}

TEST(UtilProcess, RunsWithInputEnvironmentAndATimeLimit) {
    TempDir dir;
    const auto echo =
        script(dir.path(), "echo-back", "read line; echo \"$line $GREETING\"; exit 3");
    const auto run =
        run_process({.argv = {echo.string()}, .env = {"GREETING=hello"}, .input = "hi\n"});
    EXPECT_EQ(run.output, "hi hello\n");
    EXPECT_EQ(run.status, 3);
    // A program that outlives its time is ended, with whatever it started.
    const auto slow = script(dir.path(), "slow", "sleep 30 & sleep 30");
    const auto started = std::chrono::steady_clock::now();
    EXPECT_THROW(
        run_process({.argv = {slow.string()}, .input = "", .timeout = std::chrono::seconds(1)}),
        Error);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
    EXPECT_THROW(run_process({.argv = {(dir.path() / "absent").string()}, .input = ""}), Error);
}

}  // namespace
