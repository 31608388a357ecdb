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

// What is handed runs while the producer goes on: the producer waits (up to 2 s) for
// the first item to have run before it hands the rest, and every item runs once.
TEST(UtilParallel, ItemsRunAsTheyAreHandedWhileTheProducerGoesOn) {
    std::vector<std::atomic<int>> runs(100);
    bool first_ran_meanwhile = false;
    for_each_as_ready(
        [&](const auto& hand) {
            hand(0);
            for (int spin = 0; runs[0].load() == 0 && spin < 2000; ++spin)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            first_ran_meanwhile = runs[0].load() == 1;
            for (std::size_t i = 1; i < runs.size(); ++i) hand(i);
        },
        [&](std::size_t i) { ++runs[i]; }, [](std::size_t a, std::size_t b) { return a < b; });
    EXPECT_TRUE(first_ran_meanwhile);
    for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
}

// Of the items waiting, the first by the order given runs first. All the workers but
// one are held until the end, and that one by a first item until all the rest are
// handed: it then runs them one by one, in that order.
TEST(UtilParallel, TheFirstWaitingByTheOrderRunsFirst) {
    const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    std::atomic<bool> all_handed{false}, all_ran{false};
    auto until = [](const std::atomic<bool>& flag) {
        for (int spin = 0; !flag && spin < 5000; ++spin)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
    std::vector<std::size_t> order;
    for_each_as_ready(
        [&](const auto& hand) {
            for (std::size_t i = 0; i + 1 < cores; ++i) hand(1000 + i);  // held to the end
            hand(2000);                                                  // held until all handed
            for (std::size_t i = 0; i < 20; ++i) hand(i * 7 % 20);  // neither in order nor reversed
            all_handed = true;
        },
        [&](std::size_t i) {
            if (i >= 2000) return until(all_handed);
            if (i >= 1000) return until(all_ran);
            order.push_back(i);  // one worker only
            if (order.size() == 20) all_ran = true;
        },
        [](std::size_t a, std::size_t b) { return a > b; });  // the largest first
    std::vector<std::size_t> expected;
    for (std::size_t i = 20; i-- > 0;) expected.push_back(i);
    EXPECT_EQ(order, expected);
}

// The producer's failure comes out once everything it handed has run.
TEST(UtilParallel, TheProducersFailureIsThrownAfterWhatItHandedRan) {
    std::atomic<int> ran{0};
    try {
        for_each_as_ready(
            [&](const auto& hand) {
                for (std::size_t i = 0; i < 10; ++i) hand(i);
                throw std::runtime_error("the download failed");
            },
            [&](std::size_t) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                ++ran;
            },
            [](std::size_t a, std::size_t b) { return a < b; });
        FAIL() << "the producer's failure was lost";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "the download failed");
    }
    EXPECT_EQ(ran.load(), 10);
}

// An item's failure (of any type) does not stop the others; the lowest item's comes
// out at the end.
TEST(UtilParallel, TheLowestItemsFailureIsThrownAfterAllRan) {
    std::atomic<int> ran{0};
    try {
        for_each_as_ready(
            [&](const auto& hand) {
                for (std::size_t i = 0; i < 30; ++i) hand(i);
            },
            [&](std::size_t i) {
                ++ran;
                if (i == 21) throw std::runtime_error("failed at 21");
                if (i == 9) throw std::logic_error("failed at 9");
            },
            [](std::size_t a, std::size_t b) { return a > b; });
        FAIL() << "no failure thrown";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "failed at 9");
    }
    EXPECT_EQ(ran.load(), 30);
}

// The bytes reach the consumer whole and in order, in pieces of about the size asked
// for, on a thread other than the maker's.
TEST(UtilParallel, AHandoffGivesTheBytesInOrderOnAnotherThread) {
    std::string made, taken;
    std::set<std::thread::id> consumers;
    {
        Handoff handoff(
            [&](std::string_view piece) {
                taken += piece;
                consumers.insert(std::this_thread::get_id());
            },
            1000, 2);
        for (int i = 0; i < 5000; ++i) {
            const std::string bit = std::to_string(i) + ",";
            made += bit;
            handoff.add(bit);
        }
        handoff.finish();
        EXPECT_EQ(taken, made);  // all of it once finish() returned
    }
    EXPECT_EQ(consumers.size(), 1u);
    EXPECT_EQ(consumers.count(std::this_thread::get_id()), 0u);
}

// What the consumer throws comes out of finish(), the pieces after it are not
// consumed, and the maker is never left waiting.
TEST(UtilParallel, AHandoffThrowsTheConsumersFailureFromFinish) {
    int consumed = 0;
    Handoff handoff(
        [&](std::string_view) {
            if (++consumed == 3) throw std::runtime_error("disk full");
        },
        10, 1);
    for (int i = 0; i < 1000; ++i) handoff.add("0123456789");
    try {
        handoff.finish();
        FAIL() << "no failure thrown";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "disk full");
    }
    EXPECT_EQ(consumed, 3);
}

// A maker that fails leaves the handoff without finish(): what waits is dropped and
// the consumer's thread ends.
TEST(UtilParallel, AHandoffLeftUnfinishedEnds) {
    std::atomic<int> consumed{0};
    {
        Handoff handoff(
            [&](std::string_view) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                ++consumed;
            },
            1, 4);
        for (int i = 0; i < 6; ++i) handoff.add("x");
    }
    EXPECT_LT(consumed.load(), 6);
}

// Two threads and six tasks: the first two given start first, the rest wait for a
// thread; what a task throws comes out of its future; going out of scope waits for
// every task given.
TEST(UtilParallel, ATaskQueueRunsTasksInTheOrderGiven) {
    std::mutex mutex;
    std::vector<int> started;
    std::atomic<int> running{0}, most{0}, done{0};
    std::vector<std::shared_future<void>> futures;
    {
        TaskQueue queue(2);
        for (int i = 0; i < 6; ++i)
            futures.push_back(queue.run([&, i] {
                {
                    std::lock_guard lock(mutex);
                    started.push_back(i);
                }
                const int now = ++running;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                --running;
                ++done;
                if (i == 4) throw std::runtime_error("task 4 failed");
            }));
    }
    EXPECT_EQ(done.load(), 6);
    EXPECT_EQ(most.load(), 2);
    ASSERT_EQ(started.size(), 6u);
    // Each task starts no later than two places after its turn.
    for (std::size_t at = 0; at < started.size(); ++at)
        EXPECT_LE(static_cast<std::size_t>(started[at]), at + 1) << "task " << started[at];
    EXPECT_NO_THROW(futures[3].get());
    EXPECT_THROW(futures[4].get(), std::runtime_error);
}

}  // namespace
}  // namespace dmc
