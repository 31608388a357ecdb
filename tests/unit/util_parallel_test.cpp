#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "util/parallel.hpp"

namespace dmc {
namespace {

TEST(UtilParallel, EveryIndexRunsOnce) {
    std::vector<std::atomic<int>> runs(1000);
    for_each_parallel(runs.size(), [&](std::size_t i) { ++runs[i]; });
    for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
    for_each_parallel(0, [](std::size_t) { FAIL() << "nothing to run"; });
}

// Every call runs even when some fail; the failure reported is the lowest index's,
// whichever thread met it first.
TEST(UtilParallel, TheFirstFailureInOrderIsThrownAfterAllRan) {
    for (int round = 0; round < 20; ++round) {
        std::atomic<int> ran{0};
        try {
            for_each_parallel(64, [&](std::size_t i) {
                ++ran;
                if (i == 40 || i == 7 || i == 63)
                    throw std::runtime_error("failed at " + std::to_string(i));
            });
            FAIL() << "no failure thrown";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "failed at 7");
        }
        EXPECT_EQ(ran.load(), 64);
    }
}

TEST(UtilParallel, UsesMoreThanOneThreadWhenThereAreCores) {
    if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core";
    std::mutex m;
    std::set<std::thread::id> ids;
    std::atomic<int> waiting{0};
    for_each_parallel(2, [&](std::size_t) {
        {
            std::lock_guard lock(m);
            ids.insert(std::this_thread::get_id());
        }
        // Each call waits (up to 2 s) for the other to have started.
        ++waiting;
        for (int spin = 0; waiting.load() < 2 && spin < 2000; ++spin)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    EXPECT_EQ(ids.size(), 2u);
}

}  // namespace
}  // namespace dmc
