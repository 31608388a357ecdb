#include "contents/assemble.hpp"

#include <fnmatch.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "contents/loader.hpp"
#include "rootfs/path.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/parallel.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dmc::contents {
namespace {

using Entry = image::LayerEntry;
using Type = image::LayerEntry::Type;

// Applets that -T links to busybox.
const char* const kBusyboxApplets[] = {
    "sh",     "ash",     "ls",    "ps",    "cat",      "cp",    "mv",    "rm",    "mkdir",
    "ln",     "chmod",   "chown", "grep",  "sed",      "find",  "head",  "tail",  "less",
    "vi",     "env",     "id",    "top",   "kill",     "mount", "df",    "du",    "wget",
    "nc",     "netstat", "ip",    "ping",  "hostname", "uname", "touch", "sleep", "echo",
    "printf", "test",    "[",     "which", "xargs",    "tar",   "gzip"};

bool under(const std::string& path, const std::string& dir) {
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           path[dir.size()] == '/');
}

Entry entry_from_rootfs(const fs::path& root, const std::string& path, const rootfs::Manifest& m) {
    Entry e;
    e.path = path;
    const fs::path disk = root / path.substr(1);
    auto it = m.files.find(path);
    if (it != m.files.end()) {
        const auto& r = it->second;
        e.mode = r.mode & 07777;
        e.uid = r.uid;
        e.gid = r.gid;
        switch (r.type) {
            case 'd':
                e.type = Type::dir;
                break;
            case 'l':
                e.type = Type::symlink;
                e.link_target = r.link;
                break;
            case 'h':
                e.type = Type::hardlink;
                e.link_target = r.link;
                break;
            default:
                e.type = Type::file;
                e.source = disk;
                break;
        }
        return e;
    }
    // Made by the host (directories implied by the packages' entries).
    struct stat st;
    if (::lstat(disk.c_str(), &st) != 0)
        throw Error("selected path " + path + " vanished from the rootfs");
    if (S_ISDIR(st.st_mode)) {
        e.type = Type::dir;
        e.mode = 0755;
    } else if (S_ISLNK(st.st_mode)) {
        e.type = Type::symlink;
        e.link_target = fs::read_symlink(disk).string();
    } else {
        e.type = Type::file;
        e.mode = st.st_mode & 0777;
        e.source = disk;
    }
    return e;
}

std::string md5_of_file(const fs::path& file) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
    if (!f) throw Error("cannot read " + file.string() + ": " + std::strerror(errno));
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr);
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) EVP_DigestUpdate(ctx.get(), buf, n);
    if (std::ferror(f.get())) throw Error("cannot read " + file.string());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    return to_hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

// The MD5 of each of `files` (image path -> file on disk), read on every core. A
// content this process has met before, known by the SHA-256 unpacking recorded of
// it, is not read again: the same library is in every image of an arch, and
// adminer's image holds all of php's.
std::map<std::string, std::string> md5s_of(const std::map<std::string, fs::path>& files,
                                           const rootfs::Manifest& m) {
    static std::mutex lock;
    static std::unordered_map<std::string, std::string> by_sha256;
    std::map<std::string, std::string> out;
    // The contents to read: one file each, and every path that has that content.
    struct Todo {
        std::string sha256;  // "" when unpacking recorded none
        fs::path source;
        std::vector<std::string> paths;
    };
    std::vector<Todo> todo;
    std::map<std::string, std::size_t> pending;  // sha256 -> its entry in todo
    {
        const std::lock_guard<std::mutex> held(lock);
        for (const auto& [path, source] : files) {
            auto rec = m.files.find(path);
            const std::string sha = rec == m.files.end() ? "" : rec->second.sha256;
            if (sha.empty()) {
                todo.push_back({"", source, {path}});
            } else if (auto known = by_sha256.find(sha); known != by_sha256.end()) {
                out[path] = known->second;
            } else if (auto p = pending.find(sha); p != pending.end()) {
                todo[p->second].paths.push_back(path);
            } else {
                pending.emplace(sha, todo.size());
                todo.push_back({sha, source, {path}});
            }
        }
    }
    std::vector<std::string> md5(todo.size());
    for_each_parallel(todo.size(), [&](std::size_t i) { md5[i] = md5_of_file(todo[i].source); });
    const std::lock_guard<std::mutex> held(lock);
    for (std::size_t i = 0; i < todo.size(); ++i) {
        if (!todo[i].sha256.empty()) by_sha256.emplace(todo[i].sha256, md5[i]);
        for (const auto& path : todo[i].paths) out[path] = md5[i];
    }
    return out;
}

std::string octal(std::uint32_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", mode & 07777);
    return text;
}

}  // namespace

std::string writer(const Origin& origin) {
    switch (origin.kind) {
        case Origin::Kind::package:
            return "";
        case Origin::Kind::template_hook:
            return origin.name.empty() ? "the image's configure hook" : "template " + origin.name;
        case Origin::Kind::dmc:
            break;
    }
    return "dmc";
}

std::string file_manifest(const Assembly& assembly) {
    static const char* const kinds[] = {"file", "dir", "symlink", "hardlink"};
    std::string text;
    for (const auto& e : assembly.entries) {
        // A symlink's mode is 0777 in the layer, whatever the entry says.
        const bool symlink = e.type == image::LayerEntry::Type::symlink;
        nlohmann::ordered_json line = {{"path", e.path},
                                       {"type", kinds[static_cast<int>(e.type)]},
                                       {"mode", octal(symlink ? 0777 : e.mode)}};
        if (e.uid != 0 || e.gid != 0) {
            line["uid"] = e.uid;
            line["gid"] = e.gid;
        }
        if (auto c = assembly.contents.find(e.path); c != assembly.contents.end()) {
            line["size"] = c->second.size;
            line["sha256"] = c->second.sha256;
        }
        if (!e.link_target.empty()) line["link"] = e.link_target;
        const Origin& origin = assembly.origins.at(e.path);
        if (origin.kind == Origin::Kind::package)
            line["package"] = origin.name;
        else
            line["written_by"] = writer(origin);
        // Names that are not UTF-8 (rare, and against Debian's policy) lose those bytes.
        text += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    return text;
}

std::string passwd_file(const std::vector<plugin::UserSpec>& users) {
    std::ostringstream out;
    out << "root:x:0:0:root:/root:/usr/sbin/nologin\n";
    // Templates of one image may declare the same user (adminer's php and nginx both
    // run as www-data): it is written once, and two different declarations are an error.
    std::map<std::string, const plugin::UserSpec*> written;
    for (const auto& u : users) {
        if (u.name == "root" || u.name == "nobody") continue;
        if (auto [it, fresh] = written.emplace(u.name, &u); !fresh) {
            const auto& first = *it->second;
            if (first.uid != u.uid || first.gid != u.gid || first.home != u.home ||
                first.shell != u.shell)
                throw Error("the user " + u.name + " is declared twice, differently (" +
                            std::to_string(first.uid) + ":" + std::to_string(first.gid) + " and " +
                            std::to_string(u.uid) + ":" + std::to_string(u.gid) + ")");
            continue;
        }
        out << u.name << ":x:" << u.uid << ":" << u.gid << ":" << u.name << ":"
            << (u.home.empty() ? "/nonexistent" : u.home) << ":"
            << (u.shell.empty() ? "/usr/sbin/nologin" : u.shell) << "\n";
    }
    out << "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
    return out.str();
}

std::string group_file(const std::vector<plugin::GroupSpec>& groups,
                       const std::vector<plugin::UserSpec>& users) {
    std::ostringstream out;
    out << "root:x:0:\n";
    std::set<std::string> written{"root", "nogroup"};
    std::map<std::string, std::uint32_t> gids;
    for (const auto& g : groups) {
        if (auto [it, fresh] = gids.emplace(g.name, g.gid); !fresh && it->second != g.gid)
            throw Error("the group " + g.name + " is declared twice, with the ids " +
                        std::to_string(it->second) + " and " + std::to_string(g.gid));
        if (written.insert(g.name).second) out << g.name << ":x:" << g.gid << ":\n";
    }
    // A user's primary group must exist for lookups by gid.
    for (const auto& u : users)
        if (written.insert(u.name).second &&
            std::none_of(groups.begin(), groups.end(),
                         [&](const auto& g) { return g.gid == u.gid; }))
            out << u.name << ":x:" << u.gid << ":\n";
    out << "nogroup:x:65534:\n";
    return out.str();
}

CaCertificates ca_certificates(const fs::path& root) {
    const fs::path dir = root / "usr/share/ca-certificates";
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        // Links are skipped: they name certificates already listed, or lead out of the root.
        if (it->is_regular_file() && !it->is_symlink() && it->path().extension() == ".crt")
            names.push_back(fs::relative(it->path(), dir).string());
    }
    if (names.empty())
        throw Error(
            "the image wants ca-certificates, but the rootfs has no certificates in "
            "/usr/share/ca-certificates");
    std::sort(names.begin(), names.end());
    CaCertificates out;
    std::map<std::string, int> hashes;  // OpenSSL's subject hash -> links made
    for (const auto& name : names) {
        std::string cert = read_file(dir / name);
        if (!cert.empty() && cert.back() != '\n') cert += '\n';
        out.bundle += cert;
        const std::string pem = fs::path(name).stem().string() + ".pem";
        out.links.emplace_back("/etc/ssl/certs/" + pem, "/usr/share/ca-certificates/" + name);
        // `openssl rehash`: HASH.N -> NAME.pem, N counting certificates of one subject hash.
        BIO* bio = BIO_new_mem_buf(cert.data(), static_cast<int>(cert.size()));
        X509* x509 = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        if (x509 == nullptr) continue;  // not a PEM certificate: in the bundle only
        char hash[9];
        std::snprintf(hash, sizeof hash, "%08lx", X509_subject_name_hash(x509));
        X509_free(x509);
        out.links.emplace_back(
            "/etc/ssl/certs/" + std::string(hash) + "." + std::to_string(hashes[hash]++), pem);
    }
    return out;
}

std::vector<std::string> whole_package_files(const rootfs::Manifest& manifest) {
    std::vector<std::string> out;
    for (const auto& [path, record] : manifest.files) {
        if (under(path, "/usr/share/doc") || under(path, "/usr/share/man") ||
            under(path, "/usr/share/info") || under(path, "/usr/share/locale") ||
            under(path, "/usr/share/lintian") || under(path, "/usr/share/linda"))
            continue;
        out.push_back(path);
    }
    return out;
}

Assembly assemble(const AssemblyInput& in) {
    const auto& m = *in.manifest;
    const auto& cfg = *in.configure;
    std::map<std::string, Entry> entries;
    Assembly out;

    for (const auto& path : in.files) entries[path] = entry_from_rootfs(in.root, path, m);
    // A hard link whose target is not in the image becomes a copy of the file: its own
    // path in the rootfs is the same inode, a regular file (unpacking refuses others).
    for (auto& [path, e] : entries) {
        if (e.type != Type::hardlink || entries.count(e.link_target)) continue;
        e.type = Type::file;
        e.source = in.root / path.substr(1);
        e.link_target.clear();
    }
    for (const auto& removal : cfg.removals) {
        const std::string r = normalize_image_path(removal);
        for (auto it = entries.begin(); it != entries.end();)
            it = under(it->first, r) ? entries.erase(it) : std::next(it);
    }

    // What dmc and the templates write; any other entry is a package's file.
    std::map<std::string, Origin> written;
    const Origin by_dmc;
    auto by_template = [&](const std::string& path) {
        auto it = cfg.written_by.find(normalize_image_path(path));
        return Origin{Origin::Kind::template_hook, it == cfg.written_by.end() ? "" : it->second};
    };
    auto put = [&](Entry e, const Origin& origin) {
        e.path = normalize_image_path(e.path);
        written[e.path] = origin;
        entries[e.path] = std::move(e);
    };
    auto put_file = [&](const std::string& path, std::string content, std::uint32_t mode,
                        const Origin& origin, std::uint32_t uid = 0, std::uint32_t gid = 0) {
        Entry e;
        e.path = path;
        e.type = Type::file;
        e.content = std::move(content);
        e.mode = mode;
        e.uid = uid;
        e.gid = gid;
        put(std::move(e), origin);
    };
    auto put_dir = [&](const std::string& path, std::uint32_t mode, const Origin& origin,
                       std::uint32_t uid = 0, std::uint32_t gid = 0) {
        Entry e;
        e.path = path;
        e.type = Type::dir;
        e.mode = mode;
        e.uid = uid;
        e.gid = gid;
        put(std::move(e), origin);
    };
    auto put_link = [&](const std::string& target, const std::string& path, const Origin& origin) {
        Entry e;
        e.path = path;
        e.type = Type::symlink;
        e.mode = 0777;
        e.link_target = target;
        put(std::move(e), origin);
    };

    // The minimal base every micro image has.
    put_file("/etc/passwd", passwd_file(cfg.users), 0644, by_dmc);
    put_file("/etc/group", group_file(cfg.groups, cfg.users), 0644, by_dmc);
    put_file("/etc/nsswitch.conf",
             "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n"
             "protocols: files\nservices: files\nethers: files\nrpc: files\n",
             0644, by_dmc);
    for (const char* p : {"/etc/os-release", "/usr/lib/os-release", "/etc/debian_version"})
        if (auto chain = symlink_chain(in.root, p); !chain.empty())
            for (const auto& c : chain) entries.try_emplace(c, entry_from_rootfs(in.root, c, m));
    put_dir("/tmp", 01777, by_dmc);
    put_dir("/var/tmp", 01777, by_dmc);
    put_dir("/root", 0700, by_dmc);
    for (const auto& link : merged_usr_links())
        if (link.always)
            put_link(std::string("usr/") + link.dir, std::string("/") + link.dir, by_dmc);

    if (in.features.wants("ca-certificates")) {
        const CaCertificates ca = ca_certificates(in.root);
        put_dir("/etc/ssl/certs", 0755, by_dmc);
        put_file("/etc/ssl/certs/ca-certificates.crt", ca.bundle, 0644, by_dmc);
        for (const auto& [link, target] : ca.links) put_link(target, link, by_dmc);
    }
    if (in.features.wants("tzdata")) {
        put_link("/usr/share/zoneinfo/Etc/UTC", "/etc/localtime", by_dmc);
        put_file("/etc/timezone", "Etc/UTC\n", 0644, by_dmc);
    }

    if (in.features.tools) {
        auto chain = symlink_chain(in.root, "/usr/bin/busybox");
        if (chain.empty()) throw Error("-T needs busybox-static, which is not in the rootfs");
        for (const auto& c : chain) entries.try_emplace(c, entry_from_rootfs(in.root, c, m));
        for (const char* applet : kBusyboxApplets) {
            const std::string path = std::string("/usr/bin/") + applet;
            if (!entries.count(path)) put_link("busybox", path, by_dmc);
        }
    }

    // The template's own configuration comes last and wins.
    for (const auto& d : cfg.dirs) put_dir(d.path, d.mode, by_template(d.path), d.uid, d.gid);
    for (const auto& f : cfg.files)
        put_file(f.path, f.data, f.mode, by_template(f.path), f.uid, f.gid);
    for (const auto& l : cfg.symlinks) put_link(l.target, l.path, by_template(l.path));

    // What ldconfig would have written, for libraries only ld.so.conf's directories hold.
    if (!entries.count("/etc/ld.so.cache")) {
        std::vector<std::string> paths;
        for (const auto& [path, e] : entries) paths.push_back(path);
        const LoaderFiles loader = loader_files(in.root, paths, in.triplet, in.ld_cache_flags);
        if (!loader.cache.empty()) {
            for (const auto& file : loader.conf_files)
                for (const auto& c : symlink_chain(in.root, file))
                    entries.try_emplace(c, entry_from_rootfs(in.root, c, m));
            if (loader.default_conf && !entries.count("/etc/ld.so.conf"))
                put_file("/etc/ld.so.conf", debian_ld_so_conf, 0644, by_dmc);
            put_file("/etc/ld.so.cache", elf::ld_cache_bytes(loader.cache), 0644, by_dmc);
        }
    }

    // Each entry's origin: a path nobody wrote over is its package's (or, for the
    // directories the unpacking implied, dmc's). A file the template replaced no
    // longer belongs to the package.
    for (const auto& [path, e] : entries) {
        if (auto w = written.find(path); w != written.end()) {
            out.origins[path] = w->second;
            continue;
        }
        auto it = m.files.find(path);
        out.origins[path] = it == m.files.end() || it->second.package.empty()
                                ? by_dmc
                                : Origin{Origin::Kind::package, it->second.package};
    }

    // Scanner metadata: each package with files in the image, distroless style.
    std::map<std::string, std::vector<std::string>> kept;
    for (const auto& [path, origin] : out.origins)
        if (origin.kind == Origin::Kind::package) kept[origin.name].push_back(path);
    std::map<std::string, fs::path> package_files;
    for (const auto& [pkg, paths] : kept)
        for (const auto& path : paths)
            if (const auto& e = entries[path]; e.type == Type::file) package_files[path] = e.source;
    const auto md5 = md5s_of(package_files, m);
    std::string status;
    for (const auto& [pkg, paths] : kept) {
        auto rec = m.packages.find(pkg);
        if (rec == m.packages.end()) continue;
        out.packages.insert(pkg);
        std::string control = rec->second.control;
        while (!control.empty() && control.back() == '\n') control.pop_back();
        // Keep "Status" next to "Package" as dpkg does.
        std::string stanza;
        std::istringstream lines(control);
        std::string line;
        while (std::getline(lines, line)) {
            stanza += line + "\n";
            if (line.rfind("Package:", 0) == 0) stanza += "Status: install ok installed\n";
        }
        std::string md5sums;
        for (const auto& path : paths)
            if (auto it = md5.find(path); it != md5.end())
                md5sums += it->second + "  " + path.substr(1) + "\n";
        if (in.features.small) {
            status += stanza + "\n";
            std::string list;
            for (const auto& path : paths) list += path + "\n";
            put_file("/var/lib/dpkg/info/" + pkg + ".list", list, 0644, by_dmc);
            put_file("/var/lib/dpkg/info/" + pkg + ".md5sums", md5sums, 0644, by_dmc);
        } else {
            put_file("/var/lib/dpkg/status.d/" + pkg, stanza, 0644, by_dmc);
            put_file("/var/lib/dpkg/status.d/" + pkg + ".md5sums", md5sums, 0644, by_dmc);
        }
    }
    if (in.features.small) put_file("/var/lib/dpkg/status", status, 0644, by_dmc);

    // A setuid or setgid file of the packages keeps the bit only where the template
    // allows it: a container seldom needs one, and each is a way up to root.
    for (auto& [path, e] : entries) {
        if ((e.mode & 06000) == 0 || e.type != Type::file || !m.files.count(path)) continue;
        const char* name = path.c_str();  // a structured binding, which Clang 14 cannot capture
        const bool allowed = std::any_of(
            in.allow_setid.begin(), in.allow_setid.end(),
            [name](const std::string& glob) { return ::fnmatch(glob.c_str(), name, 0) == 0; });
        if (allowed) continue;
        e.mode &= ~06000u;
        out.setid_dropped.push_back(path);
    }

    put_file(file_manifest_path, "", 0644, by_dmc);  // its text comes last
    // The directories the layer would imply, listed, so the manifest names every path.
    std::vector<std::string> parents;
    for (const auto& [path, e] : entries)
        for (auto slash = path.rfind('/'); slash != 0 && slash != std::string::npos;
             slash = path.rfind('/', slash - 1))
            if (!entries.count(path.substr(0, slash))) parents.push_back(path.substr(0, slash));
    for (const auto& p : parents) put_dir(p, 0755, by_dmc);

    for (const auto& [path, e] : entries) {
        if (!out.origins.count(path)) out.origins[path] = written.at(path);
        if (e.type != Type::file) continue;
        auto rec = m.files.find(path);
        if (e.source.empty())
            out.contents[path] = {sha256_hex(e.content), e.content.size()};
        else if (rec != m.files.end() && !rec->second.sha256.empty())
            out.contents[path] = {rec->second.sha256, rec->second.size};
        else
            out.contents[path] = {sha256_file(e.source), fs::file_size(e.source)};
    }
    out.entries.reserve(entries.size());
    for (auto& [path, e] : entries) out.entries.push_back(std::move(e));
    // The manifest, written last, lists itself without the digest it cannot hold.
    out.contents.erase(file_manifest_path);
    auto self = std::find_if(out.entries.begin(), out.entries.end(),
                             [](const Entry& e) { return e.path == file_manifest_path; });
    self->content = file_manifest(out);
    out.contents[file_manifest_path] = {sha256_hex(self->content), self->content.size()};
    return out;
}

}  // namespace dmc::contents
