#include "rootfs/script.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

#include "util/text.hpp"

namespace dmc::rootfs {

bool ScriptCommand::known() const {
    return std::all_of(words.begin(), words.end(), [](const ScriptWord& w) { return w.known; });
}

std::string ScriptCommand::text() const {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty()) out += ' ';
        out += w.known ? w.text : "?";
    }
    return out;
}

ScriptFacts script_facts(const std::string& debian_arch, const std::string& triplet) {
    ScriptFacts f;
    // dpkg sets DPKG_ROOT, empty unless it installs into another root.
    f.variables = {{"1", "configure"}, {"2", ""}, {"DPKG_ROOT", ""}};
    f.arch = debian_arch;
    for (const char* side : {"HOST", "BUILD", "TARGET"}) {
        const std::string prefix = std::string("DEB_") + side + "_";
        f.architecture[prefix + "ARCH"] = debian_arch;
        f.architecture[prefix + "MULTIARCH"] = triplet;
        f.architecture[prefix + "GNU_TYPE"] = triplet;
    }
    return f;
}

namespace {

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Words that start or end a compound command: what follows them is the command.
bool is_keyword(const std::string& w) {
    static const char* const keywords[] = {"if",    "then",  "else", "elif", "fi", "do",   "done",
                                           "while", "until", "!",    "{",    "}",  "esac", "time"};
    return std::any_of(std::begin(keywords), std::end(keywords),
                       [&](const char* k) { return w == k; });
}

class Reader {
  public:
    Reader(std::string_view text, const ScriptFacts& facts) : s_(text), facts_(facts) {}

    std::vector<ScriptCommand> run() {
        while (pos_ < s_.size()) step();
        end_word();
        end_command();
        return std::move(commands_);
    }

  private:
    struct Variable {
        std::string value;
        bool known = true;
    };

    char peek(std::size_t ahead = 0) const {
        return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0';
    }

    void step() {
        const char c = peek();
        if (c == '\\' && peek(1) == '\n') {  // a continued line
            pos_ += 2;
            ++line_;
            return;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            end_word();
            ++pos_;
            return;
        }
        if (c == '\n') {
            end_word();
            end_command();
            ++pos_;
            ++line_;
            skip_heredocs();
            return;
        }
        if (c == '#' && !in_word_) {
            while (pos_ < s_.size() && peek() != '\n') ++pos_;
            return;
        }
        if (c == ';' || c == '&' || c == '|' || c == '(' || c == ')') {
            end_word();
            end_command();
            ++pos_;
            if ((c == ';' || c == '&' || c == '|') && peek() == c) ++pos_;  // ;; && ||
            return;
        }
        if (c == '<' || c == '>') {
            redirection();
            return;
        }
        start_word();
        if (c == '\'' || c == '"') quoted_ = true;
        if (c == '\'') {
            ++pos_;
            while (pos_ < s_.size() && peek() != '\'') take_char(word_.text);
            ++pos_;
            mark_quoted();
        } else if (c == '"') {
            ++pos_;
            mark_quoted();
            double_quoted();
        } else if (c == '\\') {
            ++pos_;
            mark_quoted();
            if (pos_ < s_.size()) take_char(word_.text);
        } else if (c == '$' || c == '`') {
            mark_quoted();
            expansion();
        } else {
            take_char(word_.text);
        }
    }

    void take_char(std::string& into) {
        if (peek() == '\n') ++line_;
        into += s_[pos_++];
    }

    void start_word() {
        if (in_word_) return;
        in_word_ = true;
        word_ = {};
        literal_prefix_ = std::string::npos;
        quoted_ = false;
    }
    // The first quote or expansion ends the part of the word an assignment is read from.
    void mark_quoted() {
        if (literal_prefix_ == std::string::npos) literal_prefix_ = word_.text.size();
    }

    void double_quoted() {
        while (pos_ < s_.size() && peek() != '"') {
            const char c = peek();
            if (c == '\\' && std::string_view("$`\"\\\n").find(peek(1)) != std::string_view::npos) {
                ++pos_;
                if (peek() == '\n') {
                    ++pos_;
                    ++line_;
                } else {
                    take_char(word_.text);
                }
            } else if (c == '$' || c == '`') {
                expansion();
            } else {
                take_char(word_.text);
            }
        }
        ++pos_;  // the closing quote
    }

    // $NAME, ${...}, $(...), $((...)) and `...`, at pos_.
    void expansion() {
        if (peek() == '`') {
            ++pos_;
            std::string inner;
            while (pos_ < s_.size() && peek() != '`') {
                if (peek() == '\\' && pos_ + 1 < s_.size()) ++pos_;
                take_char(inner);
            }
            ++pos_;
            append(substitution(inner));
            return;
        }
        ++pos_;  // "$"
        const char c = peek();
        if (c == '(') {
            const bool arithmetic = peek(1) == '(';
            const std::string inner = balanced('(', ')');
            append(arithmetic ? std::nullopt : substitution(inner));
            return;
        }
        if (c == '{') {
            append(braced(balanced('{', '}')));
            return;
        }
        if (is_name_start(c)) {
            std::string name;
            while (is_name_char(peek())) name += s_[pos_++];
            append(lookup(name));
            return;
        }
        if (std::isdigit(static_cast<unsigned char>(c))) {
            ++pos_;
            append(lookup(std::string(1, c)));
            return;
        }
        if (std::string_view("@*#?$!-").find(c) != std::string_view::npos && c != '\0') {
            ++pos_;
            append(std::nullopt);
            return;
        }
        word_.text += '$';  // a lone "$" is itself
    }

    // The text between an opening `open` at pos_ and its matching `close`, nested ones
    // and quoted ones skipped; pos_ ends after it.
    std::string balanced(char open, char close) {
        int depth = 0;
        const std::size_t start = pos_;
        char quote = 0;
        while (pos_ < s_.size()) {
            const char c = s_[pos_];
            if (c == '\n') ++line_;
            if (quote) {
                if (c == '\\' && quote == '"')
                    ++pos_;
                else if (c == quote)
                    quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '\\') {
                ++pos_;
            } else if (c == open) {
                ++depth;
            } else if (c == close && --depth == 0) {
                ++pos_;
                return std::string(s_.substr(start + 1, pos_ - start - 2));
            }
            ++pos_;
        }
        return std::string(s_.substr(start + 1));
    }

    std::optional<std::string> lookup(const std::string& name) const {
        if (auto v = variables_.find(name); v != variables_.end())
            return v->second.known ? std::optional(v->second.value) : std::nullopt;
        if (auto f = facts_.variables.find(name); f != facts_.variables.end()) return f->second;
        return std::nullopt;  // set at run time, if at all: not a value to guess
    }

    // ${NAME} and ${NAME:-word} / ${NAME-word}; any other form is not followed.
    std::optional<std::string> braced(const std::string& inner) {
        std::size_t n = 0;
        while (n < inner.size() && is_name_char(inner[n])) ++n;
        if (n == 0) return std::nullopt;
        const std::string name = inner.substr(0, n);
        if (n == inner.size()) return lookup(name);
        const std::string_view rest = std::string_view(inner).substr(n);
        const bool colon = !rest.empty() && rest[0] == ':';
        const char op = rest.size() > (colon ? 1u : 0u) ? rest[colon ? 1 : 0] : '\0';
        if (op != '-' && op != '+') return std::nullopt;
        const std::string fallback(rest.substr(colon ? 2 : 1));
        const bool literal = fallback.find_first_of("$`\"'\\") == std::string::npos;
        auto value = lookup(name);
        if (op == '+') {  // the word when the variable is set (and not empty, with ":")
            if (!value) return std::nullopt;
            if (colon && value->empty()) return "";
            return literal ? std::optional(fallback) : std::nullopt;
        }
        if (!literal) return std::nullopt;
        if (value && (!colon || !value->empty())) return value;
        // Unset (or empty, with ":"): the default, if the variable is surely unset.
        if (variables_.count(name) || facts_.variables.count(name)) return fallback;
        return std::nullopt;
    }

    // What a command substitution prints, for the commands whose answer is a fact.
    std::optional<std::string> substitution(const std::string& command) const {
        const std::vector<std::string> argv = words(command);
        if (argv.size() == 2 && argv[0] == "dpkg" && argv[1] == "--print-architecture")
            return facts_.arch;
        if (!argv.empty() && argv[0] == "dpkg-architecture") {
            std::string var;
            if (argv.size() == 2 && argv[1].rfind("-q", 0) == 0) var = argv[1].substr(2);
            if (argv.size() == 3 && argv[1] == "-q") var = argv[2];
            if (auto a = facts_.architecture.find(var); a != facts_.architecture.end())
                return a->second;
        }
        return std::nullopt;
    }

    void append(const std::optional<std::string>& value) {
        if (value)
            word_.text += *value;
        else
            word_.known = false;
    }

    // <file, >file, 2>&1, >>file, <<DELIM: the operator and its target leave the command.
    void redirection() {
        if (in_word_ && literal_prefix_ == std::string::npos && !word_.text.empty() &&
            std::all_of(word_.text.begin(), word_.text.end(),
                        [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
            in_word_ = false;  // the descriptor number belongs to the redirection
        else
            end_word();
        const bool heredoc = peek() == '<' && peek(1) == '<';
        ++pos_;
        while (peek() == '<' || peek() == '>' || peek() == '&' || peek() == '|') ++pos_;
        bool strip_tabs = false;
        if (heredoc && peek() == '-') {
            strip_tabs = true;
            ++pos_;
        }
        while (peek() == ' ' || peek() == '\t') ++pos_;
        // The target word, read and dropped.
        std::string target;
        while (pos_ < s_.size() &&
               std::string_view(" \t\n;&|()<>").find(peek()) == std::string_view::npos) {
            const char c = s_[pos_++];
            if (c != '\'' && c != '"' && c != '\\') target += c;
        }
        if (heredoc) heredocs_.push_back({target, strip_tabs});
    }

    // The bodies of the here-documents of the line just ended.
    void skip_heredocs() {
        for (const auto& [delimiter, strip_tabs] : heredocs_) {
            while (pos_ < s_.size()) {
                std::size_t end = s_.find('\n', pos_);
                if (end == std::string_view::npos) end = s_.size();
                std::string_view line = s_.substr(pos_, end - pos_);
                pos_ = std::min(end + 1, s_.size());
                ++line_;
                if (strip_tabs)
                    line.remove_prefix(std::min(line.find_first_not_of('\t'), line.size()));
                if (line == delimiter) break;
            }
        }
        heredocs_.clear();
    }

    void end_word() {
        if (!in_word_) return;
        in_word_ = false;
        // An unquoted expansion to nothing is no word at all, as after field splitting.
        if (word_.text.empty() && word_.known && !quoted_) return;
        if (command_.words.empty()) command_.line = line_;
        assignment_.push_back(assignment_length());
        command_.words.push_back(std::move(word_));
    }

    // The length of "NAME=" when the word is an assignment, else 0.
    std::size_t assignment_length() const {
        const std::string& t = word_.text;
        const std::size_t eq = t.find('=');
        if (eq == std::string::npos || eq == 0 || eq > literal_prefix_) return 0;
        if (!is_name_start(t[0])) return 0;
        for (std::size_t i = 1; i < eq; ++i)
            if (!is_name_char(t[i])) return 0;
        return eq + 1;
    }

    void end_command() {
        auto& words = command_.words;
        std::size_t first = 0;
        while (first < words.size() && words[first].known && is_keyword(words[first].text)) ++first;
        // export/local/readonly NAME=value are assignments too.
        std::size_t assign_from = first;
        if (first < words.size() &&
            (words[first].text == "export" || words[first].text == "local" ||
             words[first].text == "readonly"))
            ++assign_from;
        std::size_t i = assign_from;
        while (i < words.size() && assignment_[i] > 0) ++i;
        if (i == words.size()) {
            // Only assignments: they set the script's variables.
            for (std::size_t k = assign_from; k < words.size(); ++k) {
                const std::size_t n = assignment_[k];
                variables_[words[k].text.substr(0, n - 1)] = {words[k].text.substr(n),
                                                              words[k].known};
            }
        } else if (first == assign_from) {
            // NAME=value before a command is its environment, not the script's.
            ScriptCommand out;
            out.line = command_.line;
            out.words.assign(std::make_move_iterator(words.begin() + static_cast<long>(i)),
                             std::make_move_iterator(words.end()));
            commands_.push_back(std::move(out));
        }
        command_ = {};
        assignment_.clear();
    }

    std::string_view s_;
    const ScriptFacts& facts_;
    std::size_t pos_ = 0;
    int line_ = 1;
    bool in_word_ = false;
    ScriptWord word_;
    std::size_t literal_prefix_ = std::string::npos;
    bool quoted_ = false;  // the word has quotes: "" is a word
    ScriptCommand command_;
    std::vector<std::size_t> assignment_;  // per word of command_: "NAME=" length, or 0
    std::map<std::string, Variable> variables_;
    std::vector<std::pair<std::string, bool>> heredocs_;  // delimiter, <<- strips tabs
    std::vector<ScriptCommand> commands_;
};

}  // namespace

std::vector<ScriptCommand> read_script(std::string_view script, const ScriptFacts& facts) {
    return Reader(script, facts).run();
}

void for_each_script_command(
    const std::map<std::string, PackageRecord>& packages, const std::vector<std::string>& order,
    const ScriptFacts& facts, const std::function<bool(const ScriptCommand&)>& wanted,
    const std::function<void(const ScriptCommand&, const std::string& package,
                             const std::string& script)>& each,
    std::vector<UnfollowedCommand>& unfollowed) {
    for (const char* script : {"preinst", "postinst"}) {
        for (const auto& package : order) {
            auto record = packages.find(package);
            if (record == packages.end()) continue;
            auto text = record->second.scripts.find(script);
            if (text == record->second.scripts.end()) continue;
            for (const auto& command : read_script(text->second, facts)) {
                if (command.words.empty() || !command.words[0].known || !wanted(command)) continue;
                if (!command.known()) {
                    unfollowed.push_back({package, script, command.line, command.text()});
                    continue;
                }
                try {
                    each(command, package, script);
                } catch (const std::invalid_argument& e) {
                    unfollowed.push_back(
                        {package, script, command.line, command.text() + " (" + e.what() + ")"});
                }
            }
        }
    }
}

}  // namespace dmc::rootfs
