// Debian version ordering and relation fields. The input is up to three versions
// separated by NULs; the ordering must be a total order on them (reflexive,
// antisymmetric, transitive) and agree with satisfies(), and any text must parse
// as relations or give a dmc::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "apt/relation.hpp"
#include "apt/version.hpp"
#include "fuzz.hpp"

namespace {

int sign(int v) { return (v > 0) - (v < 0); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using namespace dmc;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto [a, rest] = fuzz::split_input(input);
    const auto [b, c] = fuzz::split_input(rest);
    const int ab = sign(apt::compare_versions(a, b));
    const int bc = sign(apt::compare_versions(b, c));
    const int ac = sign(apt::compare_versions(a, c));
    fuzz::check(apt::compare_versions(a, a) == 0, "a version differs from itself");
    fuzz::check(ab == -sign(apt::compare_versions(b, a)), "the ordering is not antisymmetric");
    if (ab == bc) fuzz::check(ac == ab, "the ordering is not transitive");
    fuzz::check(apt::satisfies(a, apt::RelationOp::GreaterEq, b) == (ab >= 0),
                "satisfies(>=) disagrees with the ordering");
    fuzz::check(apt::satisfies(a, apt::RelationOp::Less, b) == (ab < 0),
                "satisfies(<<) disagrees with the ordering");
    for (std::string_view field : {input, a, b})
        fuzz::accepted([&] {
            for (const auto& group : apt::parse_relations(field, "arm64"))
                for (const auto& r : group) {
                    fuzz::check(!r.name.empty(), "a relation without a name");
                    fuzz::check((r.op == apt::RelationOp::None) == r.version.empty(),
                                "a relation's version and operator disagree");
                }
        });
    return 0;
}
