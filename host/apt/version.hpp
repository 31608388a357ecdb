// Debian version ordering, exactly as dpkg orders versions (deb-version(7)).
#pragma once

#include <optional>
#include <string_view>

namespace dmc::apt {

// The operator of a versioned relation: "pkg (>= 1.0)".
enum class RelationOp { None, Less, LessEq, Equal, GreaterEq, Greater };

// Negative, zero or positive as a sorts before, equal to or after b. Never fails:
// malformed versions are ordered by the same character rules dpkg applies.
int compare_versions(std::string_view a, std::string_view b);

// Whether `version` meets "op wanted"; RelationOp::None is met by any version.
bool satisfies(std::string_view version, RelationOp op, std::string_view wanted);

// "<<", "<=", "=", ">=", ">>", and the obsolete "<" and ">" which dpkg reads as
// "<=" and ">=". Nothing for anything else.
std::optional<RelationOp> parse_relation_op(std::string_view text);

// The canonical spelling ("<<" ... ">>"; "" for None).
std::string_view to_string(RelationOp op);

}  // namespace dmc::apt
