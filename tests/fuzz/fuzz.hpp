// What every fuzz target shares. A target turns any input into a value or a
// dmc::Error; anything else (a crash, a sanitizer report, another exception, a
// broken property) ends the run with the input saved by libFuzzer.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "util/error.hpp"

namespace dmc::fuzz {

// Stops the run when a property does not hold.
inline void check(bool holds, const char* what) {
    if (!holds) {
        std::fprintf(stderr, "fuzz property broken: %s\n", what);
        std::abort();
    }
}

// Runs `parse`; the clear refusal (dmc::Error) every parser owes bad input is fine.
template <class F>
bool accepted(F&& parse) {
    try {
        parse();
        return true;
    } catch (const Error&) {
        return false;
    }
}

// Touches every byte of a value the parser produced, so that a view into freed or
// foreign memory shows up under AddressSanitizer.
inline void touch(std::string_view s) {
    volatile unsigned char sink = 0;
    for (char c : s) sink = static_cast<unsigned char>(sink ^ static_cast<unsigned char>(c));
    (void)sink;
}

// The input split at its first NUL: two texts for targets that compare or combine.
inline std::pair<std::string_view, std::string_view> split_input(std::string_view in) {
    const auto nul = in.find('\0');
    if (nul == std::string_view::npos) return {in, {}};
    return {in.substr(0, nul), in.substr(nul + 1)};
}

}  // namespace dmc::fuzz
