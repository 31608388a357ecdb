#include "apt/relation.hpp"

#include "util/error.hpp"

namespace dmc::apt {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void skip_spaces(std::string_view s, std::size_t& pos) {
    while (pos < s.size() && is_space(s[pos])) ++pos;
}

// Reads "[arch !arch ...]" at pos; sets `matches` to whether host_arch is selected.
bool read_arch_restriction(std::string_view s, std::size_t& pos, std::string_view host_arch,
                           bool& matches) {
    ++pos;  // '['
    bool any_positive = false, positive_hit = false, negative_hit = false;
    for (;;) {
        skip_spaces(s, pos);
        if (pos >= s.size()) return false;
        if (s[pos] == ']') {
            ++pos;
            break;
        }
        bool negated = s[pos] == '!';
        if (negated) ++pos;
        std::size_t start = pos;
        while (pos < s.size() && !is_space(s[pos]) && s[pos] != ']') ++pos;
        std::string_view arch = s.substr(start, pos - start);
        if (arch.empty()) return false;
        // Wildcards like "linux-any" or "any-amd64" match only their literal spelling
        // here: Packages files never carry restrictions, so precision is not needed.
        bool hit = arch == host_arch || arch == "any";
        if (negated)
            negative_hit |= hit;
        else {
            any_positive = true;
            positive_hit |= hit;
        }
    }
    matches = any_positive ? positive_hit : !negative_hit;
    return true;
}

}  // namespace

namespace detail {

bool parse_one_relation(std::string_view s, std::size_t& pos, RelationView& out, bool& excluded,
                        std::string_view host_arch) {
    skip_spaces(s, pos);
    std::size_t start = pos;
    while (pos < s.size() && !is_space(s[pos]) && s[pos] != '(' && s[pos] != ',' && s[pos] != '|' &&
           s[pos] != '[' && s[pos] != '<' && s[pos] != ':' && s[pos] != ')')
        ++pos;
    if (pos == start) return false;
    out.name = s.substr(start, pos - start);
    if (pos < s.size() && s[pos] == ':') {
        std::size_t arch_start = ++pos;
        while (pos < s.size() && !is_space(s[pos]) && s[pos] != '(' && s[pos] != ',' &&
               s[pos] != '|' && s[pos] != '[' && s[pos] != '<')
            ++pos;
        out.arch_qualifier = s.substr(arch_start, pos - arch_start);
        if (out.arch_qualifier.empty()) return false;
    }
    skip_spaces(s, pos);
    if (pos < s.size() && s[pos] == '(') {
        ++pos;
        skip_spaces(s, pos);
        std::size_t op_start = pos;
        while (pos < s.size() && (s[pos] == '<' || s[pos] == '>' || s[pos] == '=')) ++pos;
        auto op = parse_relation_op(s.substr(op_start, pos - op_start));
        if (!op) return false;
        out.op = *op;
        skip_spaces(s, pos);
        std::size_t version_start = pos;
        while (pos < s.size() && !is_space(s[pos]) && s[pos] != ')') ++pos;
        out.version = s.substr(version_start, pos - version_start);
        skip_spaces(s, pos);
        if (out.version.empty() || pos >= s.size() || s[pos] != ')') return false;
        ++pos;
    }
    excluded = false;
    for (;;) {
        skip_spaces(s, pos);
        if (pos < s.size() && s[pos] == '[') {
            bool matches = true;
            if (!read_arch_restriction(s, pos, host_arch, matches)) return false;
            if (!host_arch.empty() && !matches) excluded = true;
        } else if (pos < s.size() && s[pos] == '<') {
            // Build profiles: kept whatever they say; binary indexes never carry them.
            std::size_t close = s.find('>', pos);
            if (close == std::string_view::npos) return false;
            pos = close + 1;
        } else {
            break;
        }
    }
    return true;
}

}  // namespace detail

RelationList parse_relations(std::string_view field, std::string_view host_arch) {
    RelationList result;
    bool ok = for_each_relation(
        field,
        [&](const RelationView& r, bool starts_group) {
            if (starts_group) result.emplace_back();
            result.back().push_back(Relation{std::string(r.name), std::string(r.arch_qualifier),
                                             r.op, std::string(r.version)});
        },
        host_arch);
    if (!ok) throw Error("malformed relationship field: \"" + std::string(field) + "\"");
    return result;
}

std::string to_string(const Relation& relation) {
    std::string out = relation.name;
    if (!relation.arch_qualifier.empty()) out += ":" + relation.arch_qualifier;
    if (relation.op != RelationOp::None) {
        out += " (";
        out += to_string(relation.op);
        out += " " + relation.version + ")";
    }
    return out;
}

std::string to_string(const OrGroup& group) {
    std::string out;
    for (const Relation& r : group) {
        if (!out.empty()) out += " | ";
        out += to_string(r);
    }
    return out;
}

}  // namespace dmc::apt
