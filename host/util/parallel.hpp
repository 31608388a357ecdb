// Work spread over the machine's cores.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
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

}  // namespace dmc
