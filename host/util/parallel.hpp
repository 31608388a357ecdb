// Work spread over the machine's cores.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
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

// Tasks run in the order they are given on `threads` threads of its own, so that
// the first given are done first (a thread each would share the cores among all of
// them and finish them all late). The destructor waits for every task given.
class TaskQueue {
  public:
    explicit TaskQueue(std::size_t threads) {
        for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
    }
    ~TaskQueue() {
        {
            std::lock_guard lock(mutex_);
            ended_ = true;
        }
        changed_.notify_all();
        for (auto& t : threads_) t.join();
    }
    TaskQueue(const TaskQueue&) = delete;
    TaskQueue& operator=(const TaskQueue&) = delete;

    // Its future holds what the task threw.
    std::shared_future<void> run(std::function<void()> task) {
        std::packaged_task<void()> packaged(std::move(task));
        auto done = packaged.get_future().share();
        {
            std::lock_guard lock(mutex_);
            waiting_.push_back(std::move(packaged));
        }
        changed_.notify_one();
        return done;
    }

  private:
    void work() {
        std::unique_lock lock(mutex_);
        for (;;) {
            changed_.wait(lock, [&] { return !waiting_.empty() || ended_; });
            if (waiting_.empty()) return;
            auto task = std::move(waiting_.front());
            waiting_.pop_front();
            lock.unlock();
            task();
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::packaged_task<void()>> waiting_;
    bool ended_ = false;
    std::vector<std::thread> threads_;  // last: they start once the rest is made
};

// A stream of bytes handed from the thread that makes it (a decoder, say) to
// `consume` on a thread of its own (hashing and parsing it), in pieces of about
// `piece` bytes, in order: the two use two cores. At most `depth` pieces wait, so
// the maker never runs far ahead. finish() waits for the last piece and throws again
// what `consume` threw; after a throw, the pieces still to come are dropped. Going
// out of scope without finish() (the maker failed) drops what waits.
class Handoff {
  public:
    explicit Handoff(std::function<void(std::string_view)> consume,
                     std::size_t piece = std::size_t{1} << 20, std::size_t depth = 8)
        : consume_(std::move(consume)), piece_(piece), depth_(depth), thread_([this] { run(); }) {}
    ~Handoff() {
        {
            std::lock_guard lock(mutex_);
            waiting_.clear();
            ended_ = true;
        }
        changed_.notify_all();
        thread_.join();
    }
    Handoff(const Handoff&) = delete;
    Handoff& operator=(const Handoff&) = delete;

    void add(std::string_view bytes) {
        filling_.append(bytes);
        if (filling_.size() >= piece_) pass();
    }
    void finish() {
        pass();
        std::unique_lock lock(mutex_);
        ended_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return waiting_.empty() && !busy_; });
        if (failure_) std::rethrow_exception(failure_);
    }

  private:
    void pass() {
        if (filling_.empty()) return;
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return waiting_.size() < depth_; });
        if (!failure_) waiting_.push_back(std::move(filling_));
        // A piece's buffer used again: a new one would be new pages to fault in.
        if (spare_.empty()) {
            filling_ = std::string();
        } else {
            filling_ = std::move(spare_.back());
            spare_.pop_back();
            filling_.clear();
        }
        changed_.notify_all();
    }
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            changed_.wait(lock, [&] { return !waiting_.empty() || ended_; });
            if (waiting_.empty()) return;
            std::string bytes = std::move(waiting_.front());
            waiting_.pop_front();
            busy_ = true;
            changed_.notify_all();
            lock.unlock();
            std::exception_ptr failed;
            try {
                consume_(bytes);
            } catch (...) {
                failed = std::current_exception();
            }
            lock.lock();
            busy_ = false;
            if (spare_.size() < 2) spare_.push_back(std::move(bytes));
            if (failed && !failure_) {
                failure_ = failed;
                waiting_.clear();
            }
            changed_.notify_all();
        }
    }

    std::function<void(std::string_view)> consume_;
    std::size_t piece_, depth_;
    std::string filling_;  // the maker's own: the piece being gathered
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::string> waiting_;
    std::vector<std::string> spare_;  // buffers of pieces consumed
    bool busy_ = false;
    bool ended_ = false;
    std::exception_ptr failure_;
    std::thread thread_;  // last: it starts once the rest is ready
};

}  // namespace dmc
