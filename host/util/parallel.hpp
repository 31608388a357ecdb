// Work spread over the machine's cores.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace dmc {

// For work done on the side for later runs (a cache saved, files no longer needed
// removed): the calling thread gets a core only where the run's own work leaves one.
inline void run_as_background() {
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);  // best effort
}

// Calls fn(i) for each i that `produce` hands to the function it is given (each i at
// most once), on `threads` threads (by default one a core, for work that computes;
// more for work that waits on the network), while `produce` goes on on the caller's
// thread (downloads, say, and the work on each as it arrives); of the i waiting at
// once, the first by `before` runs first. Once `produce` has returned and every i it
// handed has run, its exception is thrown again if it threw, else that of the lowest i
// whose fn threw, so which failure is reported never depends on timing.
template <class Produce, class Fn, class Before>
void for_each_as_ready(Produce&& produce, Fn&& fn, Before&& before,
                       std::size_t threads = std::max(1u, std::thread::hardware_concurrency())) {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::size_t> ready;  // a heap: the first by `before` on top
    bool producing = true;
    std::map<std::size_t, std::exception_ptr> failures;  // by i
    auto later = [&](std::size_t a, std::size_t b) { return before(b, a); };
    auto worker = [&] {
        for (;;) {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return !ready.empty() || !producing; });
            if (ready.empty()) return;
            std::pop_heap(ready.begin(), ready.end(), later);
            const std::size_t i = ready.back();
            ready.pop_back();
            lock.unlock();
            try {
                fn(i);
            } catch (...) {
                std::lock_guard failed(mutex);
                failures.emplace(i, std::current_exception());
            }
        }
    };
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t < std::max<std::size_t>(threads, 1); ++t)
        workers.emplace_back(worker);
    std::exception_ptr failure;
    try {
        produce([&](std::size_t i) {
            {
                std::lock_guard lock(mutex);
                ready.push_back(i);
                std::push_heap(ready.begin(), ready.end(), later);
            }
            changed.notify_one();
        });
    } catch (...) {
        failure = std::current_exception();
    }
    {
        std::lock_guard lock(mutex);
        producing = false;
    }
    changed.notify_all();
    for (auto& t : workers) t.join();
    if (failure) std::rethrow_exception(failure);
    if (!failures.empty()) std::rethrow_exception(failures.begin()->second);
}

// Calls fn(i) for every i in [0, n), on up to `threads` threads (as above). Every call
// runs even when one fails; then the exception of the lowest i that threw is thrown
// again.
template <class Fn>
void for_each_parallel(std::size_t n, Fn&& fn,
                       std::size_t threads = std::max(1u, std::thread::hardware_concurrency())) {
    for_each_as_ready(
        [n](const auto& hand) {
            for (std::size_t i = 0; i < n; ++i) hand(i);
        },
        fn, [](std::size_t a, std::size_t b) { return a < b; }, std::min(threads, n));
}

}  // namespace dmc
