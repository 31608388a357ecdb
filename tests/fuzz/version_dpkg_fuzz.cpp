// Differential: dmc's version ordering against dpkg's own (libdpkg), on every pair
// of versions dpkg accepts. The input is two versions separated by a NUL.
#include <cstddef>
#include <cstdint>
#include <string>

#define LIBDPKG_VOLATILE_API 1
extern "C" {
#include <dpkg/dpkg-db.h>
#include <dpkg/dpkg.h>
#include <dpkg/version.h>
}

#include "apt/version.hpp"
#include "fuzz.hpp"

namespace {

int sign(int v) { return (v > 0) - (v < 0); }

// dpkg's reading of a version; false when dpkg refuses it or only warns of it
// (a warning is an error to dpkg --compare-versions too).
bool dpkg_parse(const std::string& text, dpkg_version& out) {
    dpkg_error err = DPKG_ERROR_INIT;
    const int rc = parseversion(&out, text.c_str(), &err);
    const bool clean = rc == 0 && err.type == DPKG_MSG_NONE;
    dpkg_error_destroy(&err);
    return clean;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto [a_view, b_view] = dmc::fuzz::split_input(input);
    const std::string a(a_view), b(b_view);
    dpkg_version va{}, vb{};
    if (dpkg_parse(a, va) && dpkg_parse(b, vb)) {
        const int dpkg = sign(dpkg_version_compare(&va, &vb));
        const int dmc = sign(dmc::apt::compare_versions(a, b));
        dmc::fuzz::check(dpkg == dmc, "dmc orders two versions unlike dpkg");
    }
    nffreeall();  // parseversion's strings live in dpkg's arena
    return 0;
}
