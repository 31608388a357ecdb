// Work spread over the machine's cores.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace dmc {

// Calls fn(i) for every i in [0, n), on up to `threads` threads (the caller's among
// them; by default one a core, for work that computes; more for work that waits on
// the network). Every call runs even when one fails; then the exception of the lowest
// i that threw is thrown again, so which failure is reported never depends on timing.
template <class Fn>
void for_each_parallel(std::size_t n, Fn&& fn,
                       std::size_t threads = std::max(1u, std::thread::hardware_concurrency())) {
    std::vector<std::exception_ptr> failures(n);
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t i = next++; i < n; i = next++) {
            try {
                fn(i);
            } catch (...) {
                failures[i] = std::current_exception();
            }
        }
    };
    std::vector<std::thread> helpers;
    for (std::size_t t = 1; t < std::min(threads, n); ++t) helpers.emplace_back(worker);
    worker();
    for (auto& t : helpers) t.join();
    for (auto& failure : failures)
        if (failure) std::rethrow_exception(failure);
}

// Calls fn(i) for each i that `produce` hands to the function it is given (each i at
// most once), on up to one thread a core, while `produce` goes on on the caller's
// thread (downloads, say, and the work on each as it arrives); of the i waiting at
// once, the first by `before` runs first. Once `produce` has returned and every i it
// handed has run, its exception is thrown again if it threw, else that of the lowest i
// whose fn threw, so which failure is reported never depends on timing.
template <class Produce, class Fn, class Before>
void for_each_as_ready(Produce&& produce, Fn&& fn, Before&& before) {
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
    const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    for (std::size_t t = 0; t < cores; ++t) workers.emplace_back(worker);
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

}  // namespace dmc
