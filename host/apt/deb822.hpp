// Zero-copy reader of deb822 text (Packages, Release, dpkg status, control files):
// paragraphs separated by blank lines, "Name: value" fields, continuation lines that
// start with a space or a tab. Every view points into the caller's text, which must
// outlive them.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace dmc::apt {

// One field. `value` starts after the colon and its blanks and ends before the
// final newline; for a multi-line field it spans the continuation lines verbatim
// (their newlines and leading blanks included).
struct Field {
    std::string_view name;
    std::string_view value;
};

bool field_name_equals(std::string_view a, std::string_view b);  // ASCII case-insensitive

// A paragraph: its text without the separating blank lines.
class Stanza {
  public:
    Stanza() = default;
    explicit Stanza(std::string_view text) : text_(text) {}

    std::string_view text() const { return text_; }
    bool empty() const { return text_.empty(); }

    // The first field of that (case-insensitive) name.
    std::optional<std::string_view> find(std::string_view name) const;
    // find(name) or "" when absent.
    std::string_view get(std::string_view name) const { return find(name).value_or(""); }

    // Fields in order: `for (Field f : stanza.fields())`.
    class FieldIterator {
      public:
        using value_type = Field;
        using difference_type = std::ptrdiff_t;
        FieldIterator() = default;
        FieldIterator(std::string_view rest) : rest_(rest) { advance(); }
        const Field& operator*() const { return current_; }
        const Field* operator->() const { return &current_; }
        FieldIterator& operator++() {
            advance();
            return *this;
        }
        void operator++(int) { advance(); }
        bool operator==(const FieldIterator& other) const { return done_ == other.done_; }

      private:
        void advance();
        std::string_view rest_;
        Field current_;
        bool done_ = true;
    };
    struct FieldRange {
        std::string_view text;
        FieldIterator begin() const { return FieldIterator(text); }
        FieldIterator end() const { return FieldIterator(); }
    };
    FieldRange fields() const { return FieldRange{text_}; }

  private:
    std::string_view text_;
};

// Paragraphs of a text in order: `for (Stanza s : Deb822(text))`. Lines starting with
// '#' between fields are comments (as in debian/control) and are skipped by fields().
class Deb822 {
  public:
    explicit Deb822(std::string_view text) : text_(text) {}

    class Iterator {
      public:
        using value_type = Stanza;
        using difference_type = std::ptrdiff_t;
        Iterator() = default;
        explicit Iterator(std::string_view rest) : rest_(rest) { advance(); }
        const Stanza& operator*() const { return current_; }
        const Stanza* operator->() const { return &current_; }
        Iterator& operator++() {
            advance();
            return *this;
        }
        void operator++(int) { advance(); }
        bool operator==(const Iterator& other) const { return done_ == other.done_; }
        // Offset of the current stanza from the start of the text, for error messages.
        std::size_t offset_in(std::string_view whole) const {
            return static_cast<std::size_t>(current_.text().data() - whole.data());
        }

      private:
        void advance();
        std::string_view rest_;
        Stanza current_;
        bool done_ = true;
    };

    Iterator begin() const { return Iterator(text_); }
    Iterator end() const { return Iterator(); }

  private:
    std::string_view text_;
};

// The lines of a multi-line value, trimmed, skipping empty ones: for Release's
// "SHA256:" lists and the like. `for (std::string_view line : ValueLines(v))`.
class ValueLines {
  public:
    explicit ValueLines(std::string_view value) : value_(value) {}
    class Iterator {
      public:
        using value_type = std::string_view;
        using difference_type = std::ptrdiff_t;
        Iterator() = default;
        explicit Iterator(std::string_view rest) : rest_(rest) { advance(); }
        std::string_view operator*() const { return current_; }
        Iterator& operator++() {
            advance();
            return *this;
        }
        void operator++(int) { advance(); }
        bool operator==(const Iterator& other) const { return done_ == other.done_; }

      private:
        void advance();
        std::string_view rest_;
        std::string_view current_;
        bool done_ = true;
    };
    Iterator begin() const { return Iterator(value_); }
    Iterator end() const { return Iterator(); }

  private:
    std::string_view value_;
};

// Strips blanks (space, tab, CR, LF) at both ends.
std::string_view trim(std::string_view s);

}  // namespace dmc::apt
