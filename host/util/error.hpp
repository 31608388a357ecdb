// One error type for fatal failures: main() turns it into a one-line message and
// an exit code. Expected failures are returned as values (Result) instead.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace dmc {

// Exit codes: 1 for a failed build or bad input, 2 for a usage error.
struct Error : std::runtime_error {
    explicit Error(const std::string& message, int exit_code = 1)
        : std::runtime_error(message), code(exit_code) {}
    int code;
};

struct UsageError : Error {
    explicit UsageError(const std::string& message) : Error(message, 2) {}
};

// A value or the reason there is none.
template <class T>
class Result {
  public:
    Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
    static Result failure(std::string why) { return Result(Failure{std::move(why)}); }

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() {
        if (!ok()) throw Error(error());
        return std::get<0>(v_);
    }
    const T& value() const {
        if (!ok()) throw Error(error());
        return std::get<0>(v_);
    }
    T& operator*() { return value(); }
    T* operator->() { return &value(); }
    const T& operator*() const { return value(); }
    const T* operator->() const { return &value(); }
    const std::string& error() const { return std::get<1>(v_).why; }

  private:
    struct Failure {
        std::string why;
    };
    explicit Result(Failure f) : v_(std::move(f)) {}
    std::variant<T, Failure> v_;
};

}  // namespace dmc
