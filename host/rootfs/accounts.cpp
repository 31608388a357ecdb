#include "rootfs/accounts.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "apt/deb822.hpp"
#include "apt/relation.hpp"
#include "rootfs/path.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;

namespace dmc::rootfs {
namespace {

// adduser.conf's defaults (FIRST_SYSTEM_UID .. LAST_SYSTEM_UID, the same for gids),
// its FIRST_GID .. LAST_GID for groups that are not system groups, and login.defs'
// (SYS_UID_MIN .. SYS_UID_MAX, the same for gids) for useradd, groupadd and sysusers.
constexpr std::uint32_t kAdduserLow = 100, kAdduserHigh = 999;
constexpr std::uint32_t kGroupLow = 1000, kGroupHigh = 59999;
constexpr std::uint32_t kShadowLow = 101, kShadowHigh = 999;
constexpr std::uint32_t kNogroup = 65534;

std::vector<std::string> split_fields(const std::string& line) {
    std::vector<std::string> out;
    std::size_t at = 0;
    for (;;) {
        const std::size_t colon = line.find(':', at);
        out.push_back(line.substr(at, colon == std::string::npos ? colon : colon - at));
        if (colon == std::string::npos) return out;
        at = colon + 1;
    }
}

std::optional<std::uint32_t> number(const std::string& text) {
    if (text.empty() || text.size() > 10 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    const unsigned long long v = std::stoull(text);
    if (v > 0xfffffffeULL) return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

std::optional<std::string> read_in_root(const fs::path& root, const std::string& path) {
    const auto resolved = resolve_in_root(root, path);
    if (!resolved) return std::nullopt;
    std::ifstream in(root / resolved->substr(1), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// One command's options: "--home H", "--home=H" and "-d H" alike; flags without a
// value; the rest positional. An option it does not know is an error (thrown as
// std::invalid_argument), so nothing is guessed.
struct Parsed {
    std::map<std::string, std::string> values;
    std::set<std::string> flags;
    std::vector<std::string> names;
};

Parsed parse_options(const std::vector<ScriptWord>& words,
                     const std::map<std::string, std::string>& with_value,
                     const std::map<std::string, std::string>& without_value) {
    Parsed p;
    for (std::size_t i = 1; i < words.size(); ++i) {
        std::string w = words[i].text;
        if (w.size() < 2 || w[0] != '-') {
            p.names.push_back(w);
            continue;
        }
        std::optional<std::string> inline_value;
        if (const auto eq = w.find('='); w.rfind("--", 0) == 0 && eq != std::string::npos) {
            inline_value = w.substr(eq + 1);
            w = w.substr(0, eq);
        }
        if (auto v = with_value.find(w); v != with_value.end()) {
            if (!inline_value && i + 1 >= words.size())
                throw std::invalid_argument(w + " without its value");
            p.values[v->second] = inline_value ? *inline_value : words[++i].text;
        } else if (auto f = without_value.find(w); f != without_value.end()) {
            p.flags.insert(f->second);
        } else {
            throw std::invalid_argument("the option " + w + " is not one dmc knows");
        }
    }
    return p;
}

class Creator {
  public:
    Creator(ScriptAccounts& out, const fs::path& root) : out_(out), root_(root) {}

    void run(const ScriptCommand& command, const std::string& who) {
        who_ = who;
        std::string tool = command.words[0].text;
        tool = tool.substr(tool.rfind('/') + 1);
        if (tool == "adduser") adduser(command.words, false);
        if (tool == "addgroup") adduser(command.words, true);
        if (tool == "useradd") useradd(command.words);
        if (tool == "groupadd") groupadd(command.words);
        if (tool == "systemd-sysusers") sysusers(command.words);
    }

    static bool is_creator(const std::string& word) {
        const std::string tool = word.substr(word.rfind('/') + 1);
        return tool == "adduser" || tool == "addgroup" || tool == "useradd" || tool == "groupadd" ||
               tool == "systemd-sysusers";
    }

  private:
    Accounts& a() { return out_.accounts; }

    std::uint32_t allocated(std::optional<std::uint32_t> id, const std::string& what) {
        if (!id) throw std::invalid_argument("no free id is left for " + what);
        return *id;
    }

    void add_group(const std::string& name, std::uint32_t gid) {
        a().add(SystemGroup{name, gid, who_});
        out_.created.push_back("group " + name + " (" + std::to_string(gid) + ") by " + who_);
    }
    void add_user(SystemUser u) {
        u.created_by = who_;
        out_.created.push_back("user " + u.name + " (" + std::to_string(u.uid) + ":" +
                               std::to_string(u.gid) + ") by " + who_);
        a().add(std::move(u));
    }

    std::uint32_t gid_of(const std::string& group) {
        if (auto n = number(group)) return *n;
        if (const auto* g = a().group(group)) return g->gid;
        throw std::invalid_argument("the group " + group + " does not exist");
    }

    void adduser(const std::vector<ScriptWord>& words, bool group_tool) {
        const Parsed p = parse_options(words,
                                       {{"--home", "home"},
                                        {"--shell", "shell"},
                                        {"--uid", "uid"},
                                        {"--gid", "gid"},
                                        {"--ingroup", "ingroup"},
                                        {"--gecos", "gecos"},
                                        {"--comment", "gecos"},
                                        {"--firstuid", "firstuid"},
                                        {"--lastuid", "lastuid"},
                                        {"--firstgid", "firstgid"},
                                        {"--lastgid", "lastgid"},
                                        {"--conf", "conf"},
                                        {"--stdoutmsglevel", ""},
                                        {"--stderrmsglevel", ""},
                                        {"--logmsglevel", ""}},
                                       {{"--system", "system"},
                                        {"--group", "group"},
                                        {"--no-create-home", ""},
                                        {"--disabled-password", ""},
                                        {"--disabled-login", ""},
                                        {"--quiet", ""},
                                        {"-q", ""},
                                        {"--force-badname", ""},
                                        {"--allow-bad-names", ""},
                                        {"--allow-all-names", ""},
                                        {"--debug", ""},
                                        {"--verbose", ""},
                                        {"--add-extra-groups", ""},
                                        {"--add_extra_groups", ""},
                                        {"--encrypt-home", ""},
                                        {"--extrausers", ""}});
        if (p.values.count("conf")) throw std::invalid_argument("--conf: another adduser.conf");
        const bool system = p.flags.count("system") > 0;
        if (p.names.size() == 2 && !system) return;  // adduser USER GROUP: a membership
        if (p.names.size() != 1) throw std::invalid_argument("not one name");
        const std::string& name = p.names[0];
        auto value = [&](const char* key) -> std::optional<std::uint32_t> {
            auto it = p.values.find(key);
            if (it == p.values.end()) return std::nullopt;
            auto n = number(it->second);
            if (!n) throw std::invalid_argument(std::string(key) + " " + it->second);
            return n;
        };
        if (group_tool || (p.flags.count("group") && !system)) {
            if (a().group(name)) return;  // exists: left as it is
            const auto low = value("firstgid").value_or(system ? kAdduserLow : kGroupLow);
            const auto high = value("lastgid").value_or(system ? kAdduserHigh : kGroupHigh);
            add_group(name, value("gid")
                                ? *value("gid")
                                : allocated(a().free_gid(low, high, Accounts::Direction::up),
                                            "group " + name));
            return;
        }
        if (!system) throw std::invalid_argument("a user that is not a system user");
        if (a().user(name)) return;
        SystemUser u;
        u.name = name;
        if (auto h = p.values.find("home"); h != p.values.end()) u.home = h->second;
        if (auto s = p.values.find("shell"); s != p.values.end()) u.shell = s->second;
        if (auto g = p.values.find("gecos"); g != p.values.end()) u.gecos = g->second;
        const auto low = value("firstuid").value_or(kAdduserLow);
        const auto high = value("lastuid").value_or(kAdduserHigh);
        u.uid = value("uid")
                    ? *value("uid")
                    : allocated(a().free_uid(low, high, Accounts::Direction::up), "user " + name);
        if (auto g = p.values.find("gid"); g != p.values.end()) {
            u.gid = gid_of(g->second);
        } else if (auto in = p.values.find("ingroup"); in != p.values.end()) {
            u.gid = gid_of(in->second);
        } else if (p.flags.count("group")) {
            if (const auto* existing = a().group(name)) {
                u.gid = existing->gid;
            } else {
                u.gid = value("uid")
                            ? *value("uid")
                            : allocated(a().free_gid(value("firstgid").value_or(kAdduserLow),
                                                     value("lastgid").value_or(kAdduserHigh),
                                                     Accounts::Direction::up),
                                        "group " + name);
                add_group(name, u.gid);
            }
        } else {
            u.gid = kNogroup;
        }
        add_user(std::move(u));
    }

    void useradd(const std::vector<ScriptWord>& words) {
        const Parsed p = parse_options(
            words, {{"-u", "uid"},   {"--uid", "uid"},       {"-g", "gid"},   {"--gid", "gid"},
                    {"-d", "home"},  {"--home-dir", "home"}, {"-s", "shell"}, {"--shell", "shell"},
                    {"-c", "gecos"}, {"--comment", "gecos"}, {"-G", ""},      {"--groups", ""},
                    {"-K", ""},      {"--key", ""},          {"-e", ""},      {"--expiredate", ""},
                    {"-f", ""},      {"--inactive", ""},     {"-p", ""},      {"--password", ""}},
            {{"-r", "system"},
             {"--system", "system"},
             {"-M", ""},
             {"--no-create-home", ""},
             {"-m", ""},
             {"--create-home", ""},
             {"-N", "no-group"},
             {"--no-user-group", "no-group"},
             {"-U", ""},
             {"--user-group", ""},
             {"-o", ""},
             {"--non-unique", ""},
             {"-l", ""},
             {"--no-log-init", ""}});
        if (p.names.size() != 1) throw std::invalid_argument("not one name");
        if (!p.flags.count("system"))
            throw std::invalid_argument("a user that is not a system user");
        const std::string& name = p.names[0];
        if (a().user(name)) return;  // the scripts guard it with getent: it is not run
        SystemUser u;
        u.name = name;
        u.home = "/home/" + name;  // useradd's default HOME/NAME
        u.shell = "/bin/sh";       // /etc/default/useradd's SHELL
        if (auto h = p.values.find("home"); h != p.values.end()) u.home = h->second;
        if (auto s = p.values.find("shell"); s != p.values.end()) u.shell = s->second;
        if (auto g = p.values.find("gecos"); g != p.values.end()) u.gecos = g->second;
        if (auto uid = p.values.find("uid"); uid != p.values.end()) {
            auto n = number(uid->second);
            if (!n) throw std::invalid_argument("uid " + uid->second);
            u.uid = *n;
        } else {
            u.uid = allocated(a().free_uid(kShadowLow, kShadowHigh, Accounts::Direction::down),
                              "user " + name);
        }
        if (auto g = p.values.find("gid"); g != p.values.end()) {
            u.gid = gid_of(g->second);
        } else if (p.flags.count("no-group")) {
            u.gid = 100;  // /etc/default/useradd's GROUP: users
        } else if (const auto* existing = a().group(name)) {
            throw std::invalid_argument("the group " + existing->name + " exists already");
        } else {
            // The user's own group: the uid's number when it is free as a gid.
            u.gid =
                a().group(u.uid) == nullptr
                    ? u.uid
                    : allocated(a().free_gid(kShadowLow, kShadowHigh, Accounts::Direction::down),
                                "group " + name);
            add_group(name, u.gid);
        }
        add_user(std::move(u));
    }

    void groupadd(const std::vector<ScriptWord>& words) {
        const Parsed p =
            parse_options(words, {{"-g", "gid"}, {"--gid", "gid"}, {"-K", ""}, {"-p", ""}},
                          {{"-r", "system"},
                           {"--system", "system"},
                           {"-f", "force"},
                           {"--force", "force"},
                           {"-o", ""},
                           {"--non-unique", ""}});
        if (p.names.size() != 1) throw std::invalid_argument("not one name");
        const std::string& name = p.names[0];
        if (a().group(name)) return;  // guarded, or -f
        if (auto g = p.values.find("gid"); g != p.values.end()) {
            auto n = number(g->second);
            if (!n) throw std::invalid_argument("gid " + g->second);
            add_group(name, *n);
            return;
        }
        const bool system = p.flags.count("system") > 0;
        add_group(
            name,
            allocated(system ? a().free_gid(kShadowLow, kShadowHigh, Accounts::Direction::down)
                             : a().free_gid(kGroupLow, kGroupHigh, Accounts::Direction::up),
                      "group " + name));
    }

    // systemd-sysusers [--root R] CONF...: u and g lines of /usr/lib/sysusers.d/CONF.
    void sysusers(const std::vector<ScriptWord>& words) {
        std::vector<std::string> confs;
        for (std::size_t i = 1; i < words.size(); ++i) {
            const std::string& w = words[i].text;
            if (w.rfind("--root=", 0) == 0 && w.size() == 7) continue;  // DPKG_ROOT: "/"
            if (w.rfind('-', 0) == 0) throw std::invalid_argument("the option " + w);
            confs.push_back(w);
        }
        if (confs.empty()) throw std::invalid_argument("every sysusers.d file: not one named");
        for (const auto& conf : confs) {
            if (conf.find('/') != std::string::npos) throw std::invalid_argument(conf);
            std::optional<std::string> text;
            for (const char* dir : {"/etc/sysusers.d/", "/usr/lib/sysusers.d/"})
                if ((text = read_in_root(root_, dir + conf))) break;
            if (!text) throw std::invalid_argument("no sysusers.d file " + conf);
            std::istringstream lines(*text);
            for (std::string line; std::getline(lines, line);) sysusers_line(line, conf);
        }
    }

    void sysusers_line(const std::string& line, const std::string& conf) {
        const std::vector<ScriptWord> fields = read_script_fields(line);
        if (fields.empty() || fields[0].text.rfind('#', 0) == 0) return;
        const std::string& type = fields[0].text;
        if (fields.size() < 2) throw std::invalid_argument(conf + ": " + line);
        const std::string& name = fields[1].text;
        const std::string id = fields.size() > 2 ? fields[2].text : "-";
        if (type == "g") {
            if (a().group(name)) return;
            add_group(name, id != "-" ? gid_of(id)
                                      : allocated(a().free_gid(kShadowLow, kShadowHigh,
                                                               Accounts::Direction::down),
                                                  "group " + name));
        } else if (type == "u") {
            if (a().user(name)) return;
            SystemUser u;
            u.name = name;
            if (fields.size() > 3 && fields[3].text != "-") u.gecos = fields[3].text;
            u.home = fields.size() > 4 && fields[4].text != "-" ? fields[4].text : "/";
            if (fields.size() > 5 && fields[5].text != "-") u.shell = fields[5].text;
            const auto colon = id.find(':');
            const std::string uid_text = id.substr(0, colon);
            if (uid_text != "-") {
                auto n = number(uid_text);
                if (!n) throw std::invalid_argument(conf + ": uid " + uid_text);
                u.uid = *n;
            }
            if (colon != std::string::npos) {
                u.gid = gid_of(id.substr(colon + 1));
                if (uid_text == "-")
                    u.uid =
                        allocated(a().free_uid(kShadowLow, kShadowHigh, Accounts::Direction::down),
                                  "user " + name);
            } else if (const auto* g = a().group(name)) {
                u.gid = g->gid;
                if (uid_text == "-")
                    u.uid = a().user_free(g->gid)
                                ? g->gid
                                : allocated(a().free_uid(kShadowLow, kShadowHigh,
                                                         Accounts::Direction::down),
                                            "user " + name);
            } else {
                // A group of the same name, with the same number.
                if (uid_text == "-")
                    u.uid = allocated(
                        a().free_uid(kShadowLow, kShadowHigh, Accounts::Direction::down, true),
                        "user " + name);
                u.gid = a().group(u.uid) == nullptr
                            ? u.uid
                            : allocated(
                                  a().free_gid(kShadowLow, kShadowHigh, Accounts::Direction::down),
                                  "group " + name);
                add_group(name, u.gid);
            }
            add_user(std::move(u));
        } else if (type != "m" && type != "r") {
            throw std::invalid_argument(conf + ": the line type " + type);
        }
    }

    // A sysusers.d line's fields: blank-separated, double quotes grouping.
    static std::vector<ScriptWord> read_script_fields(const std::string& line) {
        std::vector<ScriptWord> out;
        std::size_t i = 0;
        while (i < line.size()) {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
            if (i >= line.size()) break;
            ScriptWord w;
            if (line[i] == '"') {
                const std::size_t end = line.find('"', i + 1);
                w.text = line.substr(i + 1, end == std::string::npos ? end : end - i - 1);
                i = end == std::string::npos ? line.size() : end + 1;
            } else {
                const std::size_t end = line.find_first_of(" \t", i);
                w.text = line.substr(i, end == std::string::npos ? end : end - i);
                i = end == std::string::npos ? line.size() : end;
            }
            out.push_back(std::move(w));
        }
        return out;
    }

    ScriptAccounts& out_;
    const fs::path& root_;
    std::string who_;
};

}  // namespace

Accounts Accounts::from_masters(const std::optional<std::string>& passwd,
                                const std::optional<std::string>& group) {
    Accounts a;
    std::istringstream users(
        passwd.value_or("root:*:0:0:root:/root:/bin/sh\n"
                        "nobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"));
    for (std::string line; std::getline(users, line);) {
        const auto f = split_fields(line);
        if (f.size() != 7) continue;
        auto uid = number(f[2]), gid = number(f[3]);
        if (!uid || !gid) continue;
        a.users_.push_back(SystemUser{f[0], *uid, *gid, f[4], f[5], f[6], ""});
    }
    std::istringstream groups(group.value_or("root:*:0:\nnogroup:*:65534:\n"));
    for (std::string line; std::getline(groups, line);) {
        const auto f = split_fields(line);
        if (f.size() != 4) continue;
        if (auto gid = number(f[2])) a.groups_.push_back(SystemGroup{f[0], *gid, ""});
    }
    return a;
}

const SystemUser* Accounts::user(const std::string& name) const {
    auto it =
        std::find_if(users_.begin(), users_.end(), [&](const auto& u) { return u.name == name; });
    return it == users_.end() ? nullptr : &*it;
}

const SystemGroup* Accounts::group(const std::string& name) const {
    auto it =
        std::find_if(groups_.begin(), groups_.end(), [&](const auto& g) { return g.name == name; });
    return it == groups_.end() ? nullptr : &*it;
}

const SystemGroup* Accounts::group(std::uint32_t gid) const {
    auto it =
        std::find_if(groups_.begin(), groups_.end(), [&](const auto& g) { return g.gid == gid; });
    return it == groups_.end() ? nullptr : &*it;
}

bool Accounts::user_free(std::uint32_t uid) const {
    return std::none_of(users_.begin(), users_.end(), [&](const auto& u) { return u.uid == uid; });
}

std::optional<std::uint32_t> Accounts::free_uid(std::uint32_t low, std::uint32_t high, Direction d,
                                                bool both) const {
    for (std::uint32_t i = 0; low + i <= high; ++i) {
        const std::uint32_t id = d == Direction::up ? low + i : high - i;
        if (user_free(id) && (!both || group(id) == nullptr)) return id;
    }
    return std::nullopt;
}

std::optional<std::uint32_t> Accounts::free_gid(std::uint32_t low, std::uint32_t high,
                                                Direction d) const {
    for (std::uint32_t i = 0; low + i <= high; ++i) {
        const std::uint32_t id = d == Direction::up ? low + i : high - i;
        if (group(id) == nullptr) return id;
    }
    return std::nullopt;
}

std::string Accounts::passwd_text() const {
    std::string out;
    for (const auto& u : users_)
        out += u.name + ":x:" + std::to_string(u.uid) + ":" + std::to_string(u.gid) + ":" +
               u.gecos + ":" + u.home + ":" + u.shell + "\n";
    return out;
}

std::string Accounts::group_text() const {
    std::string out;
    for (const auto& g : groups_) out += g.name + ":x:" + std::to_string(g.gid) + ":\n";
    return out;
}

void write_accounts(const fs::path& root, Manifest& manifest, const Accounts& accounts) {
    auto etc = resolve_in_root(root, "/etc");
    if (!etc) {
        fs::create_directories(root / "etc");
        FileRecord d;
        d.type = 'd';
        d.mode = 0755;
        manifest.files.emplace("/etc", d);
        etc = "/etc";
    }
    for (const auto& [name, text] :
         {std::pair{"passwd", accounts.passwd_text()}, std::pair{"group", accounts.group_text()}}) {
        const std::string image = (*etc == "/" ? "" : *etc) + "/" + name;
        const fs::path disk = root / image.substr(1);
        std::error_code ec;
        if (fs::is_symlink(fs::symlink_status(disk, ec))) fs::remove(disk, ec);
        if (fs::is_directory(fs::symlink_status(disk, ec)))
            throw Error("the rootfs has a directory " + image + "; no /etc/" + name +
                        " can be written");
        write_file_atomic(disk, text);
        FileRecord f;
        f.mode = 0644;
        f.size = text.size();
        f.sha256 = sha256_hex(text);
        manifest.files[image] = f;
    }
}

std::vector<std::string> configure_order(const Manifest& manifest) {
    // Each package's dependencies among the packages, from Pre-Depends and Depends.
    std::map<std::string, std::set<std::string>> needs;
    for (const auto& [name, record] : manifest.packages) {
        auto& deps = needs[name];
        apt::Deb822 doc(record.control);
        auto it = doc.begin();
        if (it == doc.end()) continue;
        for (const char* field : {"Pre-Depends", "Depends"}) {
            try {
                for (const auto& group : apt::parse_relations((*it).get(field)))
                    for (const auto& r : group)
                        if (r.name != name && manifest.packages.count(r.name)) deps.insert(r.name);
            } catch (const std::exception&) {
                // A field dpkg would refuse never reached here; nothing to order by.
            }
        }
    }
    // Kahn's order, the first name first among those ready; a cycle is broken at
    // its first name, as dpkg configures one of them before the others.
    std::vector<std::string> order;
    std::set<std::string> done;
    while (order.size() < needs.size()) {
        std::string next;
        for (const auto& [name, deps] : needs) {
            if (done.count(name)) continue;
            if (std::all_of(deps.begin(), deps.end(),
                            [&](const auto& d) { return done.count(d) > 0; })) {
                next = name;
                break;
            }
        }
        if (next.empty())
            for (const auto& [name, deps] : needs)
                if (!done.count(name)) {
                    next = name;
                    break;
                }
        done.insert(next);
        order.push_back(next);
    }
    return order;
}

ScriptAccounts read_accounts(const fs::path& root, const Manifest& manifest,
                             const std::vector<std::string>& order, const ScriptFacts& facts) {
    ScriptAccounts out;
    out.accounts =
        Accounts::from_masters(read_in_root(root, "/usr/share/base-passwd/passwd.master"),
                               read_in_root(root, "/usr/share/base-passwd/group.master"));
    Creator creator(out, root);
    for_each_script_command(
        manifest.packages, order, facts,
        [](const ScriptCommand& command) { return Creator::is_creator(command.words[0].text); },
        [&](const ScriptCommand& command, const std::string& package, const std::string& script) {
            creator.run(command, package + "'s " + script);
        },
        out.unfollowed);
    return out;
}

}  // namespace dmc::rootfs
