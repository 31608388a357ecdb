#include "apt/version.hpp"

namespace dmc::apt {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// dpkg's weight of a non-digit character: '~' before the end of the string,
// the end before letters, letters before everything else.
int order(char c) {
    if (is_digit(c)) return 0;
    if (is_alpha(c)) return static_cast<unsigned char>(c);
    if (c == '~') return -1;
    if (c != 0) return static_cast<unsigned char>(c) + 256;
    return 0;
}

// dpkg's verrevcmp() on views; a position past the end reads as NUL. Digit runs are
// compared by length after their leading zeros, then by their first differing digit,
// so runs of any length compare without overflow.
int compare_fragment(std::string_view a, std::string_view b) {
    std::size_t i = 0, j = 0;
    auto at = [](std::string_view s, std::size_t k) { return k < s.size() ? s[k] : '\0'; };
    while (i < a.size() || j < b.size()) {
        while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
            int ac = order(at(a, i));
            int bc = order(at(b, j));
            if (ac != bc) return ac - bc;
            ++i;
            ++j;
        }
        while (i < a.size() && a[i] == '0') ++i;
        while (j < b.size() && b[j] == '0') ++j;
        int first_diff = 0;
        while (i < a.size() && j < b.size() && is_digit(a[i]) && is_digit(b[j])) {
            if (first_diff == 0) first_diff = a[i] - b[j];
            ++i;
            ++j;
        }
        if (i < a.size() && is_digit(a[i])) return 1;
        if (j < b.size() && is_digit(b[j])) return -1;
        if (first_diff != 0) return first_diff;
    }
    return 0;
}

struct Parts {
    std::string_view epoch;
    std::string_view upstream;
    std::string_view revision;
};

Parts split(std::string_view v) {
    Parts p;
    if (auto colon = v.find(':'); colon != std::string_view::npos) {
        p.epoch = v.substr(0, colon);
        v.remove_prefix(colon + 1);
    }
    if (auto dash = v.rfind('-'); dash != std::string_view::npos) {
        p.upstream = v.substr(0, dash);
        p.revision = v.substr(dash + 1);
    } else {
        p.upstream = v;
    }
    return p;
}

// Epochs are decimal numbers; compared as digit strings so that no length overflows.
// A sign in front is skipped, as dpkg's strtol() reads "+2" and "-0" (dpkg refuses
// any other negative epoch).
int compare_epochs(std::string_view a, std::string_view b) {
    if (!a.empty() && (a.front() == '+' || a.front() == '-')) a.remove_prefix(1);
    if (!b.empty() && (b.front() == '+' || b.front() == '-')) b.remove_prefix(1);
    while (!a.empty() && a.front() == '0') a.remove_prefix(1);
    while (!b.empty() && b.front() == '0') b.remove_prefix(1);
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    int c = a.compare(b);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// A version as dpkg reads it: a C string (nothing after a NUL counts; read on, a NUL
// would weigh as the end and still be followed, which is no order), without the
// white space around it (C's isspace: blank, tab, newline, \v, \f, \r).
std::string_view as_dpkg_reads(std::string_view v) {
    v = v.substr(0, v.find('\0'));
    constexpr std::string_view space = " \t\n\v\f\r";
    const auto first = v.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return v.substr(first, v.find_last_not_of(space) - first + 1);
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
    a = as_dpkg_reads(a);
    b = as_dpkg_reads(b);
    Parts pa = split(a);
    Parts pb = split(b);
    if (int c = compare_epochs(pa.epoch, pb.epoch)) return c;
    if (int c = compare_fragment(pa.upstream, pb.upstream)) return c;
    return compare_fragment(pa.revision, pb.revision);
}

bool satisfies(std::string_view version, RelationOp op, std::string_view wanted) {
    if (op == RelationOp::None) return true;
    int c = compare_versions(version, wanted);
    switch (op) {
        case RelationOp::Less:
            return c < 0;
        case RelationOp::LessEq:
            return c <= 0;
        case RelationOp::Equal:
            return c == 0;
        case RelationOp::GreaterEq:
            return c >= 0;
        case RelationOp::Greater:
            return c > 0;
        case RelationOp::None:
            break;
    }
    return true;
}

std::optional<RelationOp> parse_relation_op(std::string_view text) {
    if (text == "<<") return RelationOp::Less;
    if (text == "<=" || text == "<") return RelationOp::LessEq;
    if (text == "=") return RelationOp::Equal;
    if (text == ">=" || text == ">") return RelationOp::GreaterEq;
    if (text == ">>") return RelationOp::Greater;
    return std::nullopt;
}

std::string_view to_string(RelationOp op) {
    switch (op) {
        case RelationOp::None:
            return "";
        case RelationOp::Less:
            return "<<";
        case RelationOp::LessEq:
            return "<=";
        case RelationOp::Equal:
            return "=";
        case RelationOp::GreaterEq:
            return ">=";
        case RelationOp::Greater:
            return ">>";
    }
    return "";
}

}  // namespace dmc::apt
