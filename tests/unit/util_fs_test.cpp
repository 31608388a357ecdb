#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc {
namespace {

TEST(UtilFs, AtomicWritesReplaceWholeAndLeaveNothingBehind) {
    TempDir dir;
    const fs::path file = dir.path() / "sub" / "state.json";
    fs::create_directories(file.parent_path());
    write_file_atomic(file, "first");
    write_file_atomic(file, "second, longer");
    EXPECT_EQ(read_file(file), "second, longer");
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(file.parent_path())) ++entries;
    EXPECT_EQ(entries, 1u) << "a temporary file was left next to the destination";
    EXPECT_NE(temp_sibling(file), temp_sibling(file));
    EXPECT_EQ(temp_sibling(file).parent_path(), file.parent_path());
    write_file_atomic(dir.path() / "made" / "on" / "the-way", "x");  // parents are created
    EXPECT_EQ(read_file(dir.path() / "made" / "on" / "the-way"), "x");
    EXPECT_THROW(write_file_atomic(file / "under-a-file", "x"), std::exception);
    EXPECT_EQ(read_file(file), "second, longer");
    EXPECT_THROW(read_file(dir.path() / "missing"), Error);
}

// A store of many files is looked into, not below: its temporaries are at its top.
// A file written in pieces is seen whole or not at all: nothing under its name until
// commit(), and a file given up (not committed) leaves no temporary behind.
TEST(UtilFs, AnAtomicFileAppearsOnlyWhenCommitted) {
    TempDir dir;
    const fs::path file = dir.path() / "new" / "index.bin";
    {
        AtomicFile out(file);
        out.write("abc");
        out.write(std::string(100000, 'x'));
        EXPECT_FALSE(fs::exists(file));
        out.commit();
        EXPECT_THROW(out.write("more"), Error);
    }
    EXPECT_EQ(read_file(file), "abc" + std::string(100000, 'x'));
    {
        AtomicFile out(file);
        out.write("half");
    }
    EXPECT_EQ(fs::file_size(file), 100003u);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(file.parent_path())) ++entries;
    EXPECT_EQ(entries, 1u);
}

TEST(UtilFs, AStoreIsLookedIntoButNotBelow) {
    TempDir dir;
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    const std::string dead = std::to_string(child);
    const fs::path store = dir.path() / "rootfs" / "store";
    write_file_atomic(store / (".abc.tmp." + dead + ".0") / "data", "x");
    write_file_atomic(store / "abc" / "data" / (".left.tmp." + dead + ".0"), "x");
    EXPECT_EQ(remove_stale_temps(dir.path(), 4, {store}), 1u);
    EXPECT_FALSE(fs::exists(store / (".abc.tmp." + dead + ".0")));
    EXPECT_TRUE(fs::exists(store / "abc" / "data" / (".left.tmp." + dead + ".0")));
}

// What a killed process left under temporary names goes; a live one's stays.
TEST(UtilFs, StaleTemporaryFilesOfDeadProcessesAreRemoved) {
    TempDir dir;
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);  // a process id that is gone now
    const std::string dead = std::to_string(child), live = std::to_string(::getpid());
    fs::create_directories(dir.path() / "a" / "b" / "deep");
    for (const auto& p : {dir.path() / (".index.tmp." + dead + ".0"),
                          dir.path() / "a" / "b" / (".pack.json.tmp." + dead + ".3"),
                          dir.path() / "a" / (".x.tmp." + live + ".1"),
                          dir.path() / "a" / "b" / "deep" / (".too-deep.tmp." + dead + ".0"),
                          dir.path() / "a" / ".hidden.tmp.x.0", dir.path() / "plain.tmp.1.2"})
        write_file_atomic(p, "x");
    fs::create_directories(dir.path() / ("." + std::string("tree.tmp.") + dead + ".7") / "root");
    EXPECT_EQ(remove_stale_temps(dir.path(), 2), 3u);
    EXPECT_FALSE(fs::exists(dir.path() / (".index.tmp." + dead + ".0")));
    EXPECT_FALSE(fs::exists(dir.path() / "a" / "b" / (".pack.json.tmp." + dead + ".3")));
    EXPECT_FALSE(fs::exists(dir.path() / (".tree.tmp." + dead + ".7")));
    EXPECT_TRUE(fs::exists(dir.path() / "a" / (".x.tmp." + live + ".1")));
    EXPECT_TRUE(fs::exists(dir.path() / "a" / "b" / "deep" / (".too-deep.tmp." + dead + ".0")));
    EXPECT_TRUE(fs::exists(dir.path() / "a" / ".hidden.tmp.x.0"));
    EXPECT_TRUE(fs::exists(dir.path() / "plain.tmp.1.2"));
}

TEST(UtilFs, AFileLockExcludesOthersUntilItDies) {
    TempDir dir;
    const fs::path lock_file = dir.path() / ".lock";
    auto try_lock = [&] {
        const int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        const bool got = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
        ::close(fd);
        return got;
    };
    {
        FileLock lock(lock_file);
        EXPECT_FALSE(try_lock()) << "a second holder got the lock";
    }
    EXPECT_TRUE(try_lock()) << "the lock outlived its object";
}

TEST(UtilFs, AFileLockThatMayNotWaitSaysItIsNotHeld) {
    TempDir dir;
    const fs::path lock_file = dir.path() / "run.lock";
    FileLock first(lock_file);
    EXPECT_TRUE(first.held());
    // flock locks belong to the open file: a second open in this process competes too.
    FileLock second(lock_file, FileLock::Wait::no);
    EXPECT_FALSE(second.held());
}

TEST(UtilFs, SharedFileLocksKeepOnlyTheExclusiveOneOut) {
    TempDir dir;
    const fs::path lock_file = dir.path() / ".prune.lock";
    {
        FileLock first(lock_file, FileLock::Wait::no, FileLock::Mode::shared);
        FileLock second(lock_file, FileLock::Wait::no, FileLock::Mode::shared);
        EXPECT_TRUE(first.held());
        EXPECT_TRUE(second.held());
        FileLock exclusive(lock_file, FileLock::Wait::no);
        EXPECT_FALSE(exclusive.held());
    }
    FileLock exclusive(lock_file, FileLock::Wait::no);
    EXPECT_TRUE(exclusive.held());
    FileLock shared(lock_file, FileLock::Wait::no, FileLock::Mode::shared);
    EXPECT_FALSE(shared.held());
}

TEST(UtilFs, UnusableDirectoriesSayWhy) {
    TempDir dir;
    EXPECT_FALSE(unusable_directory(dir.path()));
    EXPECT_FALSE(unusable_directory(dir.path() / "new" / "deeper"));  // can be created
    std::ofstream(dir.path() / "file") << "x";
    EXPECT_EQ(unusable_directory(dir.path() / "file"), "it is not a directory");
    EXPECT_EQ(unusable_directory(dir.path() / "file" / "sub"),
              "it cannot be created: " + (dir.path() / "file").string() + " is not a directory");
}

TEST(UtilFs, TempDirIsRemovedWithItsContent) {
    fs::path kept;
    {
        TempDir dir;
        kept = dir.path();
        std::ofstream(kept / "x") << "x";
        EXPECT_TRUE(fs::is_directory(kept));
    }
    EXPECT_FALSE(fs::exists(kept));
}

}  // namespace
}  // namespace dmc
