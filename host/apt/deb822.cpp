#include "apt/deb822.hpp"

#include <cstring>

namespace dmc::apt {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// End of the line starting at `pos`: the index of its '\n', or text.size().
std::size_t line_end(std::string_view text, std::size_t pos) {
    const void* nl = std::memchr(text.data() + pos, '\n', text.size() - pos);
    return nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - text.data()) : text.size();
}

// A line of only blanks separates paragraphs just like an empty one.
bool is_blank_line(std::string_view text, std::size_t pos, std::size_t end) {
    for (; pos < end; ++pos)
        if (!is_blank(text[pos])) return false;
    return true;
}

}  // namespace

bool field_name_equals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (is_blank(s.front()) || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (is_blank(s.back()) || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

std::optional<std::string_view> Stanza::find(std::string_view name) const {
    for (const Field& f : fields())
        if (field_name_equals(f.name, name)) return f.value;
    return std::nullopt;
}

void Stanza::FieldIterator::advance() {
    while (!rest_.empty()) {
        std::size_t end = line_end(rest_, 0);
        std::string_view line = rest_.substr(0, end);
        // Comments, and stray continuation lines with no field to continue.
        if (line.empty() || line.front() == '#' || is_blank(line.front())) {
            rest_.remove_prefix(end < rest_.size() ? end + 1 : end);
            continue;
        }
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {  // not a field: skipped, as dpkg would refuse
            rest_.remove_prefix(end < rest_.size() ? end + 1 : end);
            continue;
        }
        std::size_t start = colon + 1;
        while (start < end && is_blank(rest_[start])) ++start;
        // Continuation lines: every following line that starts with a blank.
        while (end + 1 < rest_.size() && (rest_[end + 1] == ' ' || rest_[end + 1] == '\t'))
            end = line_end(rest_, end + 1);
        std::size_t value_end = end;
        while (value_end > start && is_blank(rest_[value_end - 1])) --value_end;
        current_.name = rest_.substr(0, colon);
        while (!current_.name.empty() && is_blank(current_.name.back()))
            current_.name.remove_suffix(1);
        current_.value = rest_.substr(start, value_end - start);
        rest_.remove_prefix(end < rest_.size() ? end + 1 : end);
        done_ = false;
        return;
    }
    done_ = true;
}

void Deb822::Iterator::advance() {
    // Skip the blank lines before the paragraph.
    std::size_t pos = 0;
    while (pos < rest_.size()) {
        std::size_t end = line_end(rest_, pos);
        if (!is_blank_line(rest_, pos, end)) break;
        pos = end < rest_.size() ? end + 1 : end;
    }
    if (pos >= rest_.size()) {
        rest_ = {};
        done_ = true;
        return;
    }
    // The paragraph ends before the first blank line. Most lines are "Name: value"
    // and can't be blank, so only lines starting with a blank are inspected.
    std::size_t start = pos;
    std::size_t end = line_end(rest_, pos);
    while (end < rest_.size()) {
        std::size_t next = end + 1;
        if (next >= rest_.size() || rest_[next] == '\n') break;
        std::size_t next_end = line_end(rest_, next);
        if (is_blank(rest_[next]) && is_blank_line(rest_, next, next_end)) break;
        end = next_end;
    }
    current_ = Stanza(rest_.substr(start, end - start));
    rest_.remove_prefix(end < rest_.size() ? end + 1 : end);
    done_ = false;
}

void ValueLines::Iterator::advance() {
    while (!rest_.empty()) {
        std::size_t end = line_end(rest_, 0);
        std::string_view line = trim(rest_.substr(0, end));
        rest_.remove_prefix(end < rest_.size() ? end + 1 : end);
        if (!line.empty()) {
            current_ = line;
            done_ = false;
            return;
        }
    }
    done_ = true;
}

}  // namespace dmc::apt
