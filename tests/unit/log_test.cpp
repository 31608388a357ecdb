#include "log/log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/fs.hpp"
#include "util/text.hpp"

namespace dmc::log {
namespace {

TEST(Log, SeedLevelNamesInOrder) {
    const char* names[] = {"NONE",   "FAIL", "ERROR", "OK",     "TASK",   "WARNING", "STDERR",
                           "NOTICE", "CMD",  "INFO",  "STDOUT", "DETAIL", "ASSERT",  "ALL"};
    for (int i = 0; i < 14; ++i) {
        auto level = parse_level(names[i]);
        ASSERT_TRUE(level) << names[i];
        EXPECT_EQ(static_cast<int>(*level), i);
        EXPECT_EQ(level_name(*level), names[i]);
    }
    EXPECT_EQ(parse_level("warning"), Level::warning);
    EXPECT_FALSE(parse_level("LOUD"));
}

TEST(Log, MappingOntoSpdlog) {
    EXPECT_EQ(to_spdlog(Level::none), spdlog::level::off);
    EXPECT_EQ(to_spdlog(Level::fail), spdlog::level::critical);
    EXPECT_EQ(to_spdlog(Level::error), spdlog::level::err);
    EXPECT_EQ(to_spdlog(Level::warning), spdlog::level::warn);
    EXPECT_EQ(to_spdlog(Level::stderr_), spdlog::level::warn);
    EXPECT_EQ(to_spdlog(Level::ok), spdlog::level::info);
    EXPECT_EQ(to_spdlog(Level::task), spdlog::level::info);
    EXPECT_EQ(to_spdlog(Level::notice), spdlog::level::info);
    EXPECT_EQ(to_spdlog(Level::info), spdlog::level::info);
    EXPECT_EQ(to_spdlog(Level::cmd), spdlog::level::debug);
    EXPECT_EQ(to_spdlog(Level::detail), spdlog::level::debug);
    EXPECT_EQ(to_spdlog(Level::assert_), spdlog::level::trace);
    EXPECT_EQ(to_spdlog(Level::all), spdlog::level::trace);
}

TEST(Log, ThresholdShowsLevelsUpToIt) {
    EXPECT_TRUE(shows(Level::task, Level::fail));
    EXPECT_TRUE(shows(Level::task, Level::ok));
    EXPECT_TRUE(shows(Level::task, Level::task));
    EXPECT_FALSE(shows(Level::task, Level::warning));
    EXPECT_FALSE(shows(Level::none, Level::fail));
    EXPECT_TRUE(shows(Level::all, Level::assert_));
}

TEST(Log, LogFileHasHeaderTasksAndExitStatus) {
    TempDir dir;
    Settings settings;
    settings.console = Level::none;
    settings.file = Level::task;
    settings.dir = dir.path();
    auto& logger = Logger::instance();
    logger.start(settings, "dmc -t nginx", {{"dist", "trixie"}});
    logger.task_begin(1, "nginx.amd64.prepare", "Declare packages");
    logger.write(Level::info, "hidden: above the file's level");
    logger.write(Level::warning, "hidden too");
    logger.write(Level::error, "an error shows");
    logger.task_end(true);
    logger.task_begin(2, "nginx.amd64.rootfs", "Unpack");
    logger.task_end(false, "mirror unreachable");
    logger.finish(1);
    ASSERT_TRUE(logger.file_path());
    std::string text = read_file(*logger.file_path());
    EXPECT_NE(text.find("started: dmc -t nginx"), std::string::npos) << text;
    EXPECT_NE(text.find("dist = trixie"), std::string::npos);
    EXPECT_NE(text.find("task 1 nginx.amd64.prepare"), std::string::npos);
    EXPECT_NE(text.find("an error shows"), std::string::npos);
    EXPECT_EQ(text.find("hidden"), std::string::npos);
    EXPECT_NE(text.find("OK      1 nginx.amd64.prepare"), std::string::npos);
    EXPECT_NE(text.find("FAIL    2 nginx.amd64.rootfs : Unpack: mirror unreachable"),
              std::string::npos);
    EXPECT_NE(text.find("exit status 1"), std::string::npos);
    EXPECT_LT(text.find("task 1"), text.find("task 2"));
    logger.start(Settings{}, "", {});  // back to no file for the other tests
}

TEST(Log, ResultsGoToStdoutUnlessTheConsoleIsNone) {
    TempDir dir;
    Settings settings;
    settings.console = Level::none;
    settings.file = Level::all;
    settings.dir = dir.path();
    auto& logger = Logger::instance();
    logger.start(settings, "dmc", {});
    testing::internal::CaptureStdout();
    logger.result("nginx images/nginx:latest sha256:abc");
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "");  // a cron job's console stays empty
    EXPECT_NE(read_file(*logger.file_path()).find("STDOUT  nginx images/nginx:latest sha256:abc"),
              std::string::npos);
    settings.console = Level::notice;
    settings.dir.reset();
    logger.start(settings, "dmc", {});
    testing::internal::CaptureStdout();
    logger.result("php images/php:latest sha256:def");
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "php images/php:latest sha256:def\n");
    logger.start(Settings{}, "", {});
}

TEST(Log, OnlyTheNewestRunLogsAreKept) {
    TempDir dir;
    for (const char* old : {"dmc-20200101-000000-1.log", "dmc-20200102-000000-1.log",
                            "dmc-20200103-000000-1.log", "dmc-20200104-000000-1.log"})
        std::ofstream(dir.path() / old) << "old\n";
    std::ofstream(dir.path() / "notes.txt") << "not a log\n";
    Settings settings;
    settings.console = Level::none;
    settings.dir = dir.path();
    settings.keep = 3;
    auto& logger = Logger::instance();
    logger.start(settings, "dmc", {});
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
        left.push_back(e.path().filename().string());
    std::sort(left.begin(), left.end());
    ASSERT_EQ(left.size(), 4u);
    EXPECT_EQ(left[0], "dmc-20200103-000000-1.log");
    EXPECT_EQ(left[1], "dmc-20200104-000000-1.log");
    EXPECT_EQ(left[2], logger.file_path()->filename().string());  // the run's own
    EXPECT_EQ(left[3], "notes.txt");
    logger.start(Settings{}, "", {});
}

}  // namespace
}  // namespace dmc::log

namespace dmc {
namespace {

TEST(Redact, UserInformationOfUrlsNeverReachesALog) {
    EXPECT_EQ(redact_credentials("cannot fetch https://ci:s3cret@mirror.example/debian/dists: 404"),
              "cannot fetch https://***@mirror.example/debian/dists: 404");
    EXPECT_EQ(redact_credentials("-M http://u@h -H https://a:b@r:5000/ns x"),
              "-M http://***@h -H https://***@r:5000/ns x");
    EXPECT_EQ(redact_credentials("http://plain.example/path@v1 no creds"),
              "http://plain.example/path@v1 no creds");
    EXPECT_EQ(redact_credentials("no url here"), "no url here");
}

TEST(Redact, TheLogFileHasNoCredentials) {
    TempDir dir;
    log::Settings settings;
    settings.console = log::Level::none;
    settings.file = log::Level::all;
    settings.dir = dir.path();
    auto& logger = log::Logger::instance();
    logger.start(settings, "dmc -M https://user:topsecret@m.example/debian",
                 {{"mirrors", "https://user:topsecret@m.example/debian"}});
    logger.write(log::Level::error, "cannot fetch https://user:topsecret@m.example/debian/x");
    logger.task_begin(1, "t", "d");
    logger.task_end(false, "https://user:topsecret@m.example failed");
    logger.finish(1);
    const std::string text = read_file(*logger.file_path());
    EXPECT_EQ(text.find("topsecret"), std::string::npos) << text;
    EXPECT_NE(text.find("https://***@m.example"), std::string::npos) << text;
    logger.start(log::Settings{}, "", {});
}

}  // namespace
}  // namespace dmc
