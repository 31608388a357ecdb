#include "elf/closure.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>

#include "elf/elf_file.hpp"
#include "rootfs/path.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;

namespace dmc {

namespace {

// How deep ld.so.conf "include"s may nest: ldconfig has no limit, but a root
// whose configuration includes itself must not hang us.
constexpr int kMaxConfDepth = 16;

// What libc-bin (Essential: on every Debian system) ships as /etc/ld.so.conf; a
// rootfs of the image's packages alone may not have it.
constexpr std::string_view kDebianLdSoConf = "include /etc/ld.so.conf.d/*.conf\n";

// The host path of a resolved image path (normalized, no symlink left).
fs::path host_path(const fs::path& root, const std::string& resolved) {
    return resolved == "/" ? root : root / resolved.substr(1);
}

// The directory part of an image path, kept unnormalized as ld.so keeps it for
// $ORIGIN: ".." in it must be applied after the symlinks before it.
std::string directory_of(const std::string& image_path) {
    const std::size_t slash = image_path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return image_path.substr(0, slash);
}

bool is_absolute(std::string_view path) { return !path.empty() && path.front() == '/'; }

std::optional<std::string> read_text_in_root(const fs::path& root, const std::string& image_path) {
    const std::optional<std::string> resolved = resolve_in_root(root, image_path);
    if (!resolved) return std::nullopt;
    const fs::path host = host_path(root, *resolved);
    std::error_code ec;
    if (!fs::is_regular_file(host, ec)) return std::nullopt;
    std::ifstream in(host, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Blanks of configuration files; "\r" too, for files written on other systems.
constexpr const char* kBlanks = " \t\r";

std::vector<std::string> split_blanks(std::string_view text) {
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t begin = text.find_first_not_of(kBlanks, start);
        if (begin == std::string_view::npos) break;
        std::size_t end = text.find_first_of(kBlanks, begin);
        if (end == std::string_view::npos) end = text.size();
        words.emplace_back(text.substr(begin, end - begin));
        start = end;
    }
    return words;
}

// glob(3) inside the root: the existing image paths matching `pattern`, sorted.
// Wildcards may appear in any component; a leading "." is only matched
// explicitly, as glob does without GLOB_PERIOD.
std::vector<std::string> glob_in_root(const fs::path& root, const std::string& pattern) {
    std::vector<std::string> matches{""};  // "" stands for "/" while paths are built
    std::size_t start = 0;
    while (start < pattern.size() && !matches.empty()) {
        std::size_t end = pattern.find('/', start);
        if (end == std::string::npos) end = pattern.size();
        const std::string component = pattern.substr(start, end - start);
        start = end + 1;
        if (component.empty()) continue;
        std::vector<std::string> next;
        if (component.find_first_of("*?[") == std::string::npos) {
            for (const std::string& m : matches) next.push_back(m + "/" + component);
        } else {
            for (const std::string& m : matches) {
                const std::optional<std::string> dir = resolve_in_root(root, m.empty() ? "/" : m);
                if (!dir) continue;
                std::error_code ec;
                for (fs::directory_iterator it(host_path(root, *dir), ec), end_it;
                     !ec && it != end_it; it.increment(ec)) {
                    const std::string name = it->path().filename().string();
                    if (::fnmatch(component.c_str(), name.c_str(), FNM_PERIOD) == 0)
                        next.push_back(m + "/" + name);
                }
            }
        }
        matches = std::move(next);
    }
    std::vector<std::string> existing;
    for (const std::string& m : matches) {
        if (!m.empty() && resolve_in_root(root, m)) existing.push_back(m);
    }
    std::sort(existing.begin(), existing.end());
    return existing;
}

// Reads one ld.so.conf file as ldconfig does: "#" comments, one directory a
// line, "include" followed by glob patterns (relative ones taken from the
// including file's directory), "hwcap" lines ignored.
void parse_ld_so_conf(const fs::path& root, const std::string& image_path, int depth,
                      LdSoConf& conf) {
    if (depth > kMaxConfDepth) return;
    std::optional<std::string> text = read_text_in_root(root, image_path);
    if (!text && depth == 0) text = std::string(kDebianLdSoConf);
    if (!text) return;
    if (depth > 0 || !conf.defaulted)
        if (std::find(conf.files.begin(), conf.files.end(), image_path) == conf.files.end())
            conf.files.push_back(image_path);
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
        line = line.substr(0, line.find('#'));
        const std::vector<std::string> words = split_blanks(line);
        if (words.empty()) continue;
        if (words.front() == "include" && words.size() > 1) {
            for (std::size_t i = 1; i < words.size(); ++i) {
                const std::string pattern =
                    is_absolute(words[i]) ? words[i] : directory_of(image_path) + "/" + words[i];
                for (const std::string& file : glob_in_root(root, pattern))
                    parse_ld_so_conf(root, file, depth + 1, conf);
            }
            continue;
        }
        if (words.front() == "hwcap") continue;
        // A directory; the line may hold blanks inside the name, so keep it whole.
        std::string dir = line.substr(line.find_first_not_of(kBlanks));
        dir = dir.substr(0, dir.find_last_not_of(kBlanks) + 1);
        while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
        // Relative entries depend on where ldconfig ran; they mean nothing here.
        if (!is_absolute(dir)) continue;
        if (std::find(conf.dirs.begin(), conf.dirs.end(), dir) == conf.dirs.end())
            conf.dirs.push_back(dir);
    }
}

// An object in the simulated process: the program, its interpreter or a
// library, in the order ld.so loads them.
struct LoadedObject {
    std::string path;    // the image path it was opened by, symlinks unresolved
    std::string origin;  // what $ORIGIN expands to in its search paths
    const ElfInfo* info;
    std::optional<std::size_t> loader;  // the object whose DT_NEEDED brought it in
};

struct Found {
    std::string path;      // the image path tried
    std::string resolved;  // the file it leads to
};

// One run of the closure: caches parsed files across the programs it walks.
class ClosureWalker {
  public:
    explicit ClosureWalker(const ClosureRequest& request)
        : request_(request), conf_dirs_(read_ld_so_conf(request.root)) {
        if (!request_.triplet.empty()) {
            default_dirs_.push_back("/lib/" + request_.triplet);
            default_dirs_.push_back("/usr/lib/" + request_.triplet);
        }
        default_dirs_.push_back("/lib");
        default_dirs_.push_back("/usr/lib");
    }

    // Walks one program (origin from its resolved path, as ld.so takes it from
    // /proc/self/exe) or one dlopen()ed module (origin from the path given).
    void walk(const std::string& image_path, bool is_program);

    void merge_into(ClosureResult& result) const {
        std::set<std::string> all(result.paths.begin(), result.paths.end());
        all.insert(paths_.begin(), paths_.end());
        result.paths.assign(all.begin(), all.end());
        for (const std::string& w : warnings_) {
            if (std::find(result.warnings.begin(), result.warnings.end(), w) ==
                result.warnings.end())
                result.warnings.push_back(w);
        }
    }

  private:
    const Result<ElfInfo>& elf_at(const std::string& resolved);
    void add_chain(const std::string& image_path);
    void warn(const std::string& message);
    std::optional<std::string> expand(std::string_view text, const LoadedObject& owner) const;
    std::optional<Found> try_candidate(const std::string& candidate, const ElfInfo& program);
    std::optional<Found> try_dirs(const std::vector<std::string>& dirs, const LoadedObject& owner,
                                  const std::string& name, const ElfInfo& program,
                                  bool expand_tokens);
    std::optional<Found> search(const std::string& name, const std::vector<LoadedObject>& objects,
                                std::size_t requester, const ElfInfo& program);

    const ClosureRequest& request_;
    std::vector<std::string> conf_dirs_;
    std::vector<std::string> default_dirs_;
    std::map<std::string, Result<ElfInfo>> elf_cache_;  // by resolved image path
    std::set<std::string> paths_;
    std::vector<std::string> warnings_;
};

const Result<ElfInfo>& ClosureWalker::elf_at(const std::string& resolved) {
    auto it = elf_cache_.find(resolved);
    if (it == elf_cache_.end())
        it = elf_cache_.emplace(resolved, read_elf(host_path(request_.root, resolved))).first;
    return it->second;
}

void ClosureWalker::add_chain(const std::string& image_path) {
    for (std::string& entry : symlink_chain(request_.root, image_path))
        paths_.insert(std::move(entry));
}

void ClosureWalker::warn(const std::string& message) {
    if (std::find(warnings_.begin(), warnings_.end(), message) == warnings_.end())
        warnings_.push_back(message);
}

// Expands the dynamic string tokens of a search path or needed name, or
// nullopt when one has no value (ld.so then drops the path as well).
std::optional<std::string> ClosureWalker::expand(std::string_view text,
                                                 const LoadedObject& owner) const {
    const std::pair<std::string_view, std::string> tokens[] = {
        {"ORIGIN", owner.origin},
        {"LIB", "lib/" + request_.triplet},
        {"PLATFORM", request_.platform},
    };
    auto is_name_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    };
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] != '$') {
            out += text[i++];
            continue;
        }
        const std::string_view rest = text.substr(i + 1);
        bool replaced = false;
        for (const auto& [name, value] : tokens) {
            std::size_t length = 0;
            if (rest.size() >= name.size() + 2 && rest.front() == '{' &&
                rest.substr(1, name.size()) == name && rest[name.size() + 1] == '}') {
                length = name.size() + 2;
            } else if (rest.substr(0, name.size()) == name &&
                       (rest.size() == name.size() || !is_name_char(rest[name.size()]))) {
                length = name.size();
            }
            if (length == 0) continue;
            if (value.empty() || (name == "LIB" && request_.triplet.empty())) return std::nullopt;
            out += value;
            i += 1 + length;
            replaced = true;
            break;
        }
        if (!replaced) out += text[i++];  // not a token: ld.so keeps the "$"
    }
    return out;
}

std::optional<Found> ClosureWalker::try_candidate(const std::string& candidate,
                                                  const ElfInfo& program) {
    const std::optional<std::string> resolved = resolve_in_root(request_.root, candidate);
    if (!resolved) return std::nullopt;
    const fs::path host = host_path(request_.root, *resolved);
    if (!is_elf(host)) return std::nullopt;
    const Result<ElfInfo>& info = elf_at(*resolved);
    if (!info.ok()) {
        warn("skipping " + candidate + ": " + info.error());
        return std::nullopt;
    }
    if (!same_abi(program, info.value())) return std::nullopt;
    return Found{candidate, *resolved};
}

std::optional<Found> ClosureWalker::try_dirs(const std::vector<std::string>& dirs,
                                             const LoadedObject& owner, const std::string& name,
                                             const ElfInfo& program, bool expand_tokens) {
    for (const std::string& dir : dirs) {
        const std::optional<std::string> expanded =
            expand_tokens ? expand(dir, owner) : std::optional<std::string>(dir);
        if (!expanded || !is_absolute(*expanded)) continue;
        const std::string separator = expanded->back() == '/' ? "" : "/";
        if (std::optional<Found> found = try_candidate(*expanded + separator + name, program))
            return found;
    }
    return std::nullopt;
}

std::optional<Found> ClosureWalker::search(const std::string& name,
                                           const std::vector<LoadedObject>& objects,
                                           std::size_t requester, const ElfInfo& program) {
    const LoadedObject& object = objects[requester];
    if (name.find('/') != std::string::npos) {
        const std::optional<std::string> path = expand(name, object);
        if (!path || !is_absolute(*path)) return std::nullopt;
        return try_candidate(*path, program);
    }
    if (object.info->runpath.empty()) {
        // DT_RPATH of the object and of its loaders, then of the program if
        // the chain did not reach it (the interpreter's own dependencies). An
        // object with a DT_RUNPATH has its DT_RPATH ignored.
        bool program_seen = false;
        for (std::optional<std::size_t> at = requester; at; at = objects[*at].loader) {
            const LoadedObject& owner = objects[*at];
            program_seen = program_seen || *at == 0;
            if (!owner.info->runpath.empty()) continue;
            if (std::optional<Found> found =
                    try_dirs(owner.info->rpath, owner, name, program, true))
                return found;
        }
        const LoadedObject& first = objects.front();
        if (!program_seen && first.info->runpath.empty()) {
            if (std::optional<Found> found =
                    try_dirs(first.info->rpath, first, name, program, true))
                return found;
        }
    }
    if (std::optional<Found> found = try_dirs(object.info->runpath, object, name, program, true))
        return found;
    if (std::optional<Found> found = try_dirs(conf_dirs_, object, name, program, false))
        return found;
    return try_dirs(default_dirs_, object, name, program, false);
}

void ClosureWalker::walk(const std::string& image_path, bool is_program) {
    const fs::path& root = request_.root;
    const std::optional<std::string> resolved = resolve_in_root(root, image_path);
    if (!resolved) throw Error(image_path + ": not found in the root filesystem");
    add_chain(image_path);
    if (!is_elf(host_path(root, *resolved))) return;
    const Result<ElfInfo>& program_info = elf_at(*resolved);
    if (!program_info.ok()) throw Error(image_path + ": " + program_info.error());
    const ElfInfo& program = program_info.value();
    if (!program.dynamic && program.interpreter.empty()) return;

    std::vector<LoadedObject> objects;
    std::map<std::string, std::size_t> by_name;      // needed names and sonames already loaded
    std::map<std::string, std::size_t> by_resolved;  // the files already loaded
    auto add_object = [&](const std::string& path, const std::string& resolved_path,
                          std::string origin, const ElfInfo& info,
                          std::optional<std::size_t> loader) {
        const std::size_t index = objects.size();
        objects.push_back(LoadedObject{path, std::move(origin), &info, loader});
        by_name.emplace(path, index);
        if (info.soname) by_name.emplace(*info.soname, index);
        by_resolved.emplace(resolved_path, index);
    };
    add_object(image_path, *resolved, directory_of(is_program ? *resolved : image_path), program,
               std::nullopt);

    if (!program.interpreter.empty()) {
        const std::optional<std::string> interpreter = resolve_in_root(root, program.interpreter);
        if (!interpreter)
            throw Error(image_path + ": cannot find interpreter " + program.interpreter);
        add_chain(program.interpreter);
        const Result<ElfInfo>& interpreter_info = elf_at(*interpreter);
        if (!interpreter_info.ok())
            throw Error(image_path + ": interpreter " + program.interpreter + ": " +
                        interpreter_info.error());
        if (!by_resolved.count(*interpreter)) {
            add_object(program.interpreter, *interpreter, directory_of(program.interpreter),
                       interpreter_info.value(), std::nullopt);
        }
    }

    // Breadth first, as ld.so maps dependencies: the loader of each library,
    // whose DT_RPATH it inherits, is the first object that needed it.
    for (std::size_t i = 0; i < objects.size(); ++i) {
        const ElfInfo& requester = *objects[i].info;  // cached: stays valid as objects grows
        for (const std::string& needed : requester.needed) {
            if (by_name.count(needed)) continue;
            const std::optional<Found> found = search(needed, objects, i, program);
            if (!found) {
                const std::string needed_by = " (needed by " + objects[i].path + ")";
                if (!request_.optional_sonames.count(needed))
                    throw Error(image_path + ": cannot find " + needed + needed_by);
                warn(image_path + ": " + needed + " not found" + needed_by +
                     ", allowed to be missing");
                continue;
            }
            add_chain(found->path);
            if (auto same = by_resolved.find(found->resolved); same != by_resolved.end()) {
                by_name.emplace(needed, same->second);
                continue;
            }
            add_object(found->path, found->resolved, directory_of(found->path),
                       elf_at(found->resolved).value(), i);
            by_name.emplace(needed, objects.size() - 1);
        }
    }
}

}  // namespace

LdSoConf read_ld_so_conf_files(const fs::path& root) {
    LdSoConf conf;
    conf.defaulted = !read_text_in_root(root, "/etc/ld.so.conf");
    parse_ld_so_conf(root, "/etc/ld.so.conf", 0, conf);
    return conf;
}

std::vector<std::string> read_ld_so_conf(const fs::path& root) {
    return read_ld_so_conf_files(root).dirs;
}

ClosureResult resolve_closure(const ClosureRequest& request) {
    ClosureWalker walker(request);
    for (const std::string& root : request.roots) walker.walk(root, true);
    ClosureResult result;
    walker.merge_into(result);
    return result;
}

void add_dlopen_modules(ClosureResult& result, const ClosureRequest& request,
                        const std::vector<std::string>& modules) {
    ClosureWalker walker(request);
    for (const std::string& module : modules) walker.walk(module, false);
    walker.merge_into(result);
}

}  // namespace dmc
