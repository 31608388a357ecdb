#include "lock/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dmc::lock {
namespace {

constexpr int kFormat = 1;
const char* const kHeader =
    "# dmc.lock: the exact packages of every image, per dist, arch and template.\n"
    "# dmc writes it on the first build and `dmc -a update` renews it; builds use it.\n"
    "# Keep it in version control; do not edit it by hand.\n";

// A YAML double-quoted scalar: every value is one, so no text can turn into another type.
std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            out += "\\x" + to_hex(std::string_view(&c, 1));
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string flow_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quoted(items[i]);
    return out + "]";
}

class Reader {
  public:
    explicit Reader(std::string origin) : origin_(std::move(origin)) {}

    [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const {
        const int line = at.Mark().line >= 0 ? at.Mark().line + 1 : 0;
        throw Error(origin_ + (line ? ":" + std::to_string(line) : std::string()) + ": " + what +
                    "; restore the file from version control, or delete it and run dmc -a update");
    }
    const YAML::Node& map(const YAML::Node& n, const std::string& what) const {
        if (!n.IsMap()) fail(n, what + " must be a mapping");
        return n;
    }
    std::string text(const YAML::Node& parent, const std::string& key,
                     const std::string& what) const {
        const YAML::Node n = parent[key];
        if (!n) fail(parent, what + " has no '" + key + "'");
        if (!n.IsScalar()) fail(n, what + ": '" + key + "' must be a string");
        return n.Scalar();
    }
    std::vector<std::string> list(const YAML::Node& parent, const std::string& key,
                                  const std::string& what) const {
        const YAML::Node n = parent[key];
        if (!n) fail(parent, what + " has no '" + key + "'");
        if (!n.IsSequence()) fail(n, what + ": '" + key + "' must be a list");
        std::vector<std::string> out;
        for (const auto& item : n) {
            if (!item.IsScalar()) fail(item, what + ": '" + key + "' must list strings");
            out.push_back(item.Scalar());
        }
        return out;
    }
    std::map<std::string, std::string> strings(const YAML::Node& parent, const std::string& key,
                                               const std::string& what) const {
        const YAML::Node n = parent[key];
        if (!n) fail(parent, what + " has no '" + key + "'");
        map(n, what + ": '" + key + "'");
        std::map<std::string, std::string> out;
        for (const auto& kv : n) {
            if (!kv.second.IsScalar()) fail(kv.second, what + ": '" + key + "' maps to strings");
            out[kv.first.Scalar()] = kv.second.Scalar();
        }
        return out;
    }
    void only(const YAML::Node& n, const std::set<std::string>& keys,
              const std::string& what) const {
        for (const auto& kv : n)
            if (!keys.count(kv.first.Scalar()))
                fail(kv.first, what + " has an unknown key '" + kv.first.Scalar() + "'");
    }

  private:
    std::string origin_;
};

bool is_hex64(const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The lock as render() writes it, read line by line without a YAML parser: a build
// reads the lock every time, and a YAML parser takes tens of milliseconds over a lock
// of many images. Anything else (a lock edited by hand, damaged, or of values that do
// not pass the checks) is nullopt, and goes to the YAML reader and its messages.
class RenderedReader {
  public:
    explicit RenderedReader(std::string_view text) : text_(text) {}

    std::optional<Lock> read() {
        while (at("#")) skip_line();
        if (!take("lock_format: " + std::to_string(kFormat) + "\n")) return std::nullopt;
        Lock lock;
        if (take("images: {}\n")) return done() ? std::optional(std::move(lock)) : std::nullopt;
        if (!take("images:\n")) return std::nullopt;
        while (!done()) {
            Entry e;
            std::string key;
            if (!take("  ") || !quoted(key) || !take(":\n")) return std::nullopt;
            const auto first = key.find('/'), second = key.find('/', first + 1);
            if (first == std::string::npos || second == std::string::npos ||
                key.find('/', second + 1) != std::string::npos)
                return std::nullopt;
            e.dist = key.substr(0, first);
            e.arch = key.substr(first + 1, second - first - 1);
            e.image = key.substr(second + 1);
            e.line = line_;
            if (!mapping("    templates:", e.templates) || !mapping("    options:", e.options) ||
                !list("    request: ", e.request) || !list("    exclude: ", e.exclude))
                return std::nullopt;
            const bool releases = items("    releases:", "      - {mirror: ", [&] {
                Release r;
                if (!quoted(r.mirror) || !take(", suite: ") || !quoted(r.suite) ||
                    !take(", inrelease_sha256: ") || !quoted(r.sha256) || !take(", date: ") ||
                    !quoted(r.date) || !take("}\n"))
                    return false;
                e.releases.push_back(std::move(r));
                return true;
            });
            const bool packages =
                releases && items("    packages:", "      - {name: ", [&] {
                    Package p;
                    if (!quoted(p.name) || !take(", version: ") || !quoted(p.version) ||
                        !take(", arch: ") || !quoted(p.arch) || !take(", size: ") ||
                        !number(p.size) || !take(", sha256: ") || !quoted(p.sha256) ||
                        !take(", mirror: ") || !quoted(p.mirror) || !take(", suite: ") ||
                        !quoted(p.suite) || !take(", component: ") || !quoted(p.component) ||
                        !take(", filename: ") || !quoted(p.filename) || !take("}\n"))
                        return false;
                    if (!is_hex64(p.sha256) || p.filename.empty() || p.filename.front() == '/' ||
                        p.filename.find("..") != std::string::npos)
                        return false;
                    e.packages.push_back(std::move(p));
                    return true;
                });
            if (!packages) return std::nullopt;
            if (take("    source: {name: ")) {
                Source src;
                if (!quoted(src.name) || !take(", version: ") || !quoted(src.version) ||
                    !take(", url: ") || !quoted(src.url) || !take(", sha256: ") ||
                    !quoted(src.sha256) || !take("}\n") || !is_hex64(src.sha256))
                    return std::nullopt;
                e.source = std::move(src);
            }
            lock.put(std::move(e));
        }
        return lock;
    }

  private:
    bool done() const { return pos_ == text_.size(); }
    bool at(std::string_view s) const { return text_.substr(pos_, s.size()) == s; }
    bool take(std::string_view s) {
        if (!at(s)) return false;
        pos_ += s.size();
        if (!s.empty() && s.back() == '\n') ++line_;
        return true;
    }
    void skip_line() {
        const auto nl = text_.find('\n', pos_);
        pos_ = nl == std::string_view::npos ? text_.size() : nl + 1;
        ++line_;
    }
    // A double-quoted scalar as quoted() writes it.
    bool quoted(std::string& out) {
        if (!take("\"")) return false;
        while (pos_ < text_.size()) {
            const char c = text_[pos_++];
            if (c == '"') return true;
            if (c == '\n') return false;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= text_.size()) return false;
            const char e = text_[pos_++];
            if (e == '"' || e == '\\') {
                out += e;
            } else if (e == 'x' && pos_ + 2 <= text_.size()) {
                unsigned value = 0;
                for (int i = 0; i < 2; ++i) {
                    const char h = text_[pos_++];
                    const int digit = h >= '0' && h <= '9'   ? h - '0'
                                      : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                      : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                             : -1;
                    if (digit < 0) return false;
                    value = value * 16 + static_cast<unsigned>(digit);
                }
                out += static_cast<char>(value);
            } else {
                return false;
            }
        }
        return false;
    }
    bool number(std::uint64_t& out) {
        std::size_t digits = 0;
        out = 0;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9' && digits < 15) {
            out = out * 10 + static_cast<std::uint64_t>(text_[pos_++] - '0');
            ++digits;
        }
        return digits > 0;
    }
    bool mapping(std::string_view head, std::map<std::string, std::string>& out) {
        if (!take(head)) return false;
        if (take(" {}\n")) return true;
        if (!take("\n")) return false;
        while (at("      \"")) {
            std::string k, v;
            if (!take("      ") || !quoted(k) || !take(": ") || !quoted(v) || !take("\n"))
                return false;
            out.emplace(std::move(k), std::move(v));
        }
        return true;
    }
    // "<head> []", or "<head>" and lines that each start with `item`, the rest of
    // which `read` reads.
    template <class Read>
    bool items(std::string_view head, std::string_view item, const Read& read) {
        if (!take(head)) return false;
        if (take(" []\n")) return true;
        if (!take("\n")) return false;
        while (take(item))
            if (!read()) return false;
        return true;
    }
    bool list(std::string_view head, std::vector<std::string>& out) {
        if (!take(head) || !take("[")) return false;
        if (take("]\n")) return true;
        do {
            std::string item;
            if (!quoted(item)) return false;
            out.push_back(std::move(item));
        } while (take(", "));
        return take("]\n");
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    int line_ = 1;
};

}  // namespace

Lock Lock::parse(const std::string& text, const std::string& origin) {
    // The form dmc writes, read fast; the same lock exactly when it renders back to
    // the same text.
    if (auto lock = parse_written(text)) return std::move(*lock);
    Reader r(origin);
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw Error(origin + ":" + std::to_string(e.mark.line + 1) + ": not YAML (" + e.msg +
                    "); restore the file from version control, or delete it and run dmc -a update");
    }
    Lock lock;
    if (root.IsNull()) return lock;
    r.map(root, "the lock");
    r.only(root, {"lock_format", "images"}, "the lock");
    const auto format = r.text(root, "lock_format", "the lock");
    if (format != std::to_string(kFormat))
        r.fail(root["lock_format"], "lock_format " + format + " is not one this dmc reads (" +
                                        std::to_string(kFormat) + ")");
    const YAML::Node images = root["images"];
    if (!images || images.IsNull()) return lock;
    r.map(images, "images");
    for (const auto& kv : images) {
        const std::string key = kv.first.Scalar();
        const YAML::Node& n = kv.second;
        Entry e;
        const auto first = key.find('/'), second = key.find('/', first + 1);
        if (first == std::string::npos || second == std::string::npos ||
            key.find('/', second + 1) != std::string::npos)
            r.fail(kv.first, "'" + key + "' is not dist/arch/template");
        const std::string what = "image " + key;
        r.map(n, what);
        r.only(n, {"templates", "options", "request", "exclude", "releases", "packages", "source"},
               what);
        e.dist = key.substr(0, first);
        e.arch = key.substr(first + 1, second - first - 1);
        e.image = key.substr(second + 1);
        e.line = n.Mark().line + 1;
        e.templates = r.strings(n, "templates", what);
        e.options = r.strings(n, "options", what);
        e.request = r.list(n, "request", what);
        e.exclude = r.list(n, "exclude", what);
        if (!n["releases"] || !n["releases"].IsSequence()) r.fail(n, what + " needs 'releases'");
        for (const auto& item : n["releases"]) {
            r.map(item, what + ": a release");
            r.only(item, {"mirror", "suite", "inrelease_sha256", "date"}, what + ": a release");
            Release rel{r.text(item, "mirror", what), r.text(item, "suite", what),
                        r.text(item, "inrelease_sha256", what), r.text(item, "date", what)};
            e.releases.push_back(rel);
        }
        if (!n["packages"] || !n["packages"].IsSequence()) r.fail(n, what + " needs 'packages'");
        for (const auto& item : n["packages"]) {
            const std::string pwhat = what + ": a package";
            r.map(item, pwhat);
            r.only(item,
                   {"name", "version", "arch", "size", "sha256", "mirror", "suite", "component",
                    "filename"},
                   pwhat);
            Package p;
            p.name = r.text(item, "name", pwhat);
            p.version = r.text(item, "version", pwhat);
            p.arch = r.text(item, "arch", pwhat);
            p.sha256 = r.text(item, "sha256", pwhat);
            if (!is_hex64(p.sha256))
                r.fail(item["sha256"], p.name + ": sha256 is not 64 hex digits");
            const auto size = r.text(item, "size", pwhat);
            if (size.empty() || size.size() > 15 ||
                size.find_first_not_of("0123456789") != std::string::npos)
                r.fail(item["size"], p.name + ": size '" + size + "' is not a byte count");
            p.size = std::stoull(size);
            p.mirror = r.text(item, "mirror", pwhat);
            p.suite = r.text(item, "suite", pwhat);
            p.component = r.text(item, "component", pwhat);
            p.filename = r.text(item, "filename", pwhat);
            if (p.filename.empty() || p.filename.front() == '/' ||
                p.filename.find("..") != std::string::npos)
                r.fail(item["filename"],
                       p.name + ": filename '" + p.filename + "' is not a path in the archive");
            e.packages.push_back(std::move(p));
        }
        if (const YAML::Node item = n["source"]) {
            const std::string swhat = what + ": its source";
            r.map(item, swhat);
            r.only(item, {"name", "version", "url", "sha256"}, swhat);
            Source src{r.text(item, "name", swhat), r.text(item, "version", swhat),
                       r.text(item, "url", swhat), r.text(item, "sha256", swhat)};
            if (!is_hex64(src.sha256))
                r.fail(item["sha256"], swhat + ": sha256 is not 64 hex digits");
            e.source = std::move(src);
        }
        lock.put(std::move(e));
    }
    lock.changed_.clear();
    return lock;
}

std::optional<Lock> Lock::parse_written(const std::string& text) {
    auto lock = RenderedReader(text).read();
    if (!lock || lock->render() != text) return std::nullopt;
    lock->changed_.clear();
    return lock;
}

Lock Lock::load(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return {};
    return parse(read_file(file), file.string());
}

void Lock::put(Entry e) {
    std::sort(e.packages.begin(), e.packages.end(), [](const Package& a, const Package& b) {
        return std::tie(a.name, a.arch, a.version) < std::tie(b.name, b.arch, b.version);
    });
    std::sort(e.releases.begin(), e.releases.end(), [](const Release& a, const Release& b) {
        return std::tie(a.mirror, a.suite) < std::tie(b.mirror, b.suite);
    });
    std::sort(e.request.begin(), e.request.end());
    std::sort(e.exclude.begin(), e.exclude.end());
    changed_.insert(e.key());
    entries_[e.key()] = std::move(e);
}

const Entry* Lock::find(const std::string& dist, const std::string& arch,
                        const std::string& image) const {
    auto it = entries_.find(dist + "/" + arch + "/" + image);
    return it == entries_.end() ? nullptr : &it->second;
}

std::string Lock::render() const {
    std::string out = kHeader;
    out += "lock_format: " + std::to_string(kFormat) + "\n";
    out += entries_.empty() ? "images: {}\n" : "images:\n";
    auto mapping = [&](const std::map<std::string, std::string>& m) {
        if (m.empty()) return std::string(" {}\n");
        std::string s = "\n";
        for (const auto& [k, v] : m) s += "      " + quoted(k) + ": " + quoted(v) + "\n";
        return s;
    };
    for (const auto& [key, e] : entries_) {
        out += "  " + quoted(key) + ":\n";
        out += "    templates:" + mapping(e.templates);
        out += "    options:" + mapping(e.options);
        out += "    request: " + flow_list(e.request) + "\n";
        out += "    exclude: " + flow_list(e.exclude) + "\n";
        out += e.releases.empty() ? "    releases: []\n" : "    releases:\n";
        for (const auto& r : e.releases)
            out += "      - {mirror: " + quoted(r.mirror) + ", suite: " + quoted(r.suite) +
                   ", inrelease_sha256: " + quoted(r.sha256) + ", date: " + quoted(r.date) + "}\n";
        out += e.packages.empty() ? "    packages: []\n" : "    packages:\n";
        for (const auto& p : e.packages)
            out += "      - {name: " + quoted(p.name) + ", version: " + quoted(p.version) +
                   ", arch: " + quoted(p.arch) + ", size: " + std::to_string(p.size) +
                   ", sha256: " + quoted(p.sha256) + ", mirror: " + quoted(p.mirror) +
                   ", suite: " + quoted(p.suite) + ", component: " + quoted(p.component) +
                   ", filename: " + quoted(p.filename) + "}\n";
        if (e.source)
            out += "    source: {name: " + quoted(e.source->name) +
                   ", version: " + quoted(e.source->version) + ", url: " + quoted(e.source->url) +
                   ", sha256: " + quoted(e.source->sha256) + "}\n";
    }
    return out;
}

namespace {

// An exclusive flock on a directory, held while it lives: dmc processes that write
// the same lock file take turns.
class DirectoryLock {
  public:
    explicit DirectoryLock(const fs::path& dir)
        : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
        if (fd_ >= 0) ::flock(fd_, LOCK_EX);
    }
    ~DirectoryLock() {
        if (fd_ >= 0) ::close(fd_);
    }
    DirectoryLock(const DirectoryLock&) = delete;
    DirectoryLock& operator=(const DirectoryLock&) = delete;

  private:
    int fd_;
};

}  // namespace

bool Lock::save(const fs::path& file) {
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    std::error_code ec;
    fs::create_directories(dir, ec);  // when it cannot be, the write below says so
    DirectoryLock turn(dir);
    Lock merged = load(file);  // a damaged lock on disk: its message names the line
    for (const auto& key : changed_) {
        auto it = entries_.find(key);
        if (it == entries_.end())
            merged.entries_.erase(key);
        else
            merged.entries_[key] = it->second;
    }
    entries_ = std::move(merged.entries_);
    const std::string text = render();
    if (fs::exists(file, ec) && read_file(file) == text) return false;
    try {
        write_file_atomic(file, text);
    } catch (const std::exception& e) {
        throw Error("cannot write the lock " + file.string() + ": " + e.what() +
                    "; set lock_file (DMC_LOCK_FILE) to a writable place, or use --no-lock");
    }
    return true;
}

}  // namespace dmc::lock
