// Relationship fields of binary packages (Depends, Pre-Depends, Recommends, Suggests,
// Conflicts, Breaks, Provides, ...): an AND of OR-groups of relations.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "apt/version.hpp"

namespace dmc::apt {

struct Relation {
    std::string name;
    std::string arch_qualifier;  // "", "any", "native", or an architecture
    RelationOp op = RelationOp::None;
    std::string version;  // empty when op is None

    bool operator==(const Relation&) const = default;
};

using OrGroup = std::vector<Relation>;
using RelationList = std::vector<OrGroup>;  // AND of OR-groups

// The same, as views into the parsed text: what hot loops use.
struct RelationView {
    std::string_view name;
    std::string_view arch_qualifier;
    RelationOp op = RelationOp::None;
    std::string_view version;
};

// Parses a relationship field. Architecture restrictions ("[amd64 !i386]") and
// build profiles ("<!nocheck>") are read and dropped: when `host_arch` is given, a
// relation whose restriction excludes it is dropped too (and an OR-group left empty
// with it), as dpkg-checkbuilddeps does; otherwise every relation is kept. Throws
// dmc::Error on malformed text.
RelationList parse_relations(std::string_view field, std::string_view host_arch = {});

// Allocation-free form: calls on_relation(const RelationView&, bool starts_group) for
// every relation kept, in order; starts_group is true on the first relation of each
// OR-group. Returns false (having possibly called back already) on malformed text.
template <class OnRelation>
bool for_each_relation(std::string_view field, OnRelation&& on_relation,
                       std::string_view host_arch = {});

// "name:arch (op version)" in Debian's own notation.
std::string to_string(const Relation& relation);
std::string to_string(const OrGroup& group);  // "a | b (>= 1)"

namespace detail {
// One relation starting at `pos` (blanks skipped); advances pos past it and any
// restriction lists, to the ',' / '|' / end that follows. False on malformed text.
bool parse_one_relation(std::string_view field, std::size_t& pos, RelationView& out, bool& excluded,
                        std::string_view host_arch);
}  // namespace detail

template <class OnRelation>
bool for_each_relation(std::string_view field, OnRelation&& on_relation,
                       std::string_view host_arch) {
    std::size_t pos = 0;
    bool group_open = false;  // whether a relation of the current group was reported
    auto skip_blanks = [&] {
        while (pos < field.size() && (field[pos] == ' ' || field[pos] == '\t' ||
                                      field[pos] == '\n' || field[pos] == '\r'))
            ++pos;
    };
    skip_blanks();
    if (pos == field.size()) return true;
    for (;;) {
        RelationView rel;
        bool excluded = false;
        if (!detail::parse_one_relation(field, pos, rel, excluded, host_arch)) return false;
        if (!excluded) {
            on_relation(static_cast<const RelationView&>(rel), !group_open);
            group_open = true;
        }
        skip_blanks();
        if (pos == field.size()) return true;
        char sep = field[pos++];
        if (sep == ',') {
            group_open = false;
            skip_blanks();
            // A trailing comma is tolerated, as dpkg does.
            if (pos == field.size()) return true;
        } else if (sep != '|') {
            return false;
        }
    }
}

}  // namespace dmc::apt
