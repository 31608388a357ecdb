#include "rootfs/unpack.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "apt/deb822.hpp"
#include "log/log.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"
#include "util/sha256.hpp"

using nlohmann::json;

namespace fs = std::filesystem;

namespace dmc::rootfs {
namespace {

constexpr const char* kStoredList = "entries.json";
// In a stored package some of whose files were shed (see shed_store): they are
// read again from the .deb when the package is next stored.
constexpr const char* kPartial = "partial";
// Taken shared while packages are stored and placed, exclusive to remove stored files.
constexpr const char* kStoreLock = ".prune.lock";

using ArchivePtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;

// libarchive's message for the last error; there may be none (a truncated member
// seen through the outer reader), and a null char* must never reach std::string.
std::string why(struct archive* a, struct archive* outer = nullptr) {
    if (const char* s = archive_error_string(a)) return s;
    if (outer != nullptr)
        if (const char* s = archive_error_string(outer)) return s;
    return "truncated or damaged";
}

std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> parts;
    std::string cur;
    for (char c : path + "/") {
        if (c == '/') {
            if (!cur.empty() && cur != ".") parts.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    return parts;
}

// The components of an entry name ("./usr/bin/x" -> usr, bin, x); refuses absolute
// names and "..".
std::vector<std::string> entry_components(const std::string& name, const std::string& what) {
    if (name.size() >= PATH_MAX)
        throw Error(what + ": a path of " + std::to_string(name.size()) +
                    " bytes (the limit is PATH_MAX, " + std::to_string(PATH_MAX) + ") refused");
    if (control_character(name))
        throw Error(what + ": path " + quote_value(name) + " with a control character refused");
    if (!name.empty() && name[0] == '/')
        throw Error(what + ": absolute path '" + name + "' refused");
    auto parts = split(name);
    for (const auto& p : parts) {
        if (p == "..") throw Error(what + ": path '" + name + "' with '..' refused");
        if (p.size() > NAME_MAX)
            throw Error(what + ": a name of " + std::to_string(p.size()) + " bytes in '" +
                        name.substr(0, 64) + "...' (the limit is NAME_MAX, " +
                        std::to_string(NAME_MAX) + ") refused");
    }
    return parts;
}

// Resolves directory components inside root, following symlinks the way the
// kernel would after chroot, and refusing any that would lead outside it.
// Returns the image path ("/usr/lib") of the directory, creating missing ones.
std::string resolve_dir(const fs::path& root, const std::vector<std::string>& components,
                        const std::string& what, int depth = 0) {
    if (depth > 40) throw Error(what + ": too many levels of symbolic links");
    std::vector<std::string> cur;
    for (std::size_t i = 0; i < components.size(); ++i) {
        const auto& c = components[i];
        std::string image = "/";
        for (const auto& p : cur) image += p + "/";
        image += c;
        const fs::path disk = root / image.substr(1);
        struct stat st;
        if (::lstat(disk.c_str(), &st) != 0) {
            if (::mkdir(disk.c_str(), 0755) != 0 && errno != EEXIST)
                throw Error(what + ": cannot create " + image + ": " + std::strerror(errno));
            cur.push_back(c);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            cur.push_back(c);
            continue;
        }
        if (!S_ISLNK(st.st_mode)) throw Error(what + ": " + image + " is not a directory");
        char target[4096];
        ssize_t n = ::readlink(disk.c_str(), target, sizeof target - 1);
        if (n < 0) throw Error(what + ": cannot read link " + image);
        target[n] = '\0';
        std::vector<std::string> next;
        if (target[0] != '/') next = cur;
        for (const auto& p : split(target)) {
            if (p == "..") {
                if (next.empty())
                    throw Error(what + ": path through symlink " + image + " -> " + target +
                                " leaves the root; refused");
                next.pop_back();
            } else {
                next.push_back(p);
            }
        }
        for (std::size_t j = i + 1; j < components.size(); ++j) next.push_back(components[j]);
        return resolve_dir(root, next, what, depth + 1);
    }
    std::string image = "/";
    for (const auto& p : cur) image += p + "/";
    if (image.size() > 1) image.pop_back();
    return image;
}

std::string join_image(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
}

// Reads the inner tar members of a .deb through the outer ar reader.
struct Nested {
    struct archive* outer;
    char buffer[1 << 16];
};

la_ssize_t read_nested(struct archive*, void* data, const void** buf) {
    auto* n = static_cast<Nested*>(data);
    *buf = n->buffer;
    return archive_read_data(n->outer, n->buffer, sizeof n->buffer);
}

ArchivePtr open_inner(Nested& nested, const std::string& what) {
    ArchivePtr inner(archive_read_new(), archive_read_free);
    archive_read_support_filter_all(inner.get());
    archive_read_support_format_tar(inner.get());
    if (archive_read_open(inner.get(), &nested, nullptr, read_nested, nullptr) != ARCHIVE_OK)
        throw Error(what + ": corrupt member: " + why(inner.get(), nested.outer));
    return inner;
}

// A .deb opened as the ar archive it is.
ArchivePtr open_deb(const fs::path& deb, const std::string& what) {
    ArchivePtr outer(archive_read_new(), archive_read_free);
    archive_read_support_format_ar(outer.get());
    if (archive_read_open_filename(outer.get(), deb.c_str(), 1 << 16) != ARCHIVE_OK)
        throw Error(what + ": not a .deb: " + why(outer.get()));
    return outer;
}

// A directory removed with what it holds when the object dies.
struct RemovedAtEnd {
    fs::path dir;
    ~RemovedAtEnd() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

void read_control(struct archive* inner, PackageRecord& record, const std::string& what) {
    struct archive_entry* e;
    int rc;
    while ((rc = archive_read_next_header(inner, &e)) == ARCHIVE_OK) {
        std::string name = archive_entry_pathname(e);
        if (name.rfind("./", 0) == 0) name.erase(0, 2);
        std::string* sink = name == "control"                         ? &record.control
                            : name == "md5sums"                       ? &record.md5sums
                            : name == "conffiles"                     ? &record.conffiles
                            : name == "preinst" || name == "postinst" ? &record.scripts[name]
                                                                      : nullptr;
        if (sink == nullptr) continue;
        char buf[16384];
        la_ssize_t n;
        while ((n = archive_read_data(inner, buf, sizeof buf)) > 0)
            sink->append(buf, static_cast<size_t>(n));
        if (n < 0) throw Error(what + ": corrupt control member: " + why(inner));
    }
    if (rc != ARCHIVE_EOF) throw Error(what + ": corrupt control member: " + why(inner));
}

// What may still be unpacked of a package, and what its limit was, for the message.
struct Budget {
    std::uint64_t left = 0, limit = 0;
    std::string basis;  // "its Installed-Size of 12 KiB", "the limit given"
};

void write_regular(struct archive* inner, const fs::path& disk, const std::string& image,
                   const std::string& what, FileRecord& record, Budget& budget) {
    struct stat st;
    if (::lstat(disk.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            throw Error(what + ": a file would replace the directory " + disk.filename().string());
        ::unlink(disk.c_str());  // replace a file or symlink, never write through it
    }
    int fd = ::open(disk.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    (record.mode & 0777) | 0600);
    if (fd < 0) {
        if (disk_full(errno)) write_failed(disk, errno);
        throw Error(what + ": cannot create " + disk.string() + ": " + std::strerror(errno));
    }
    Sha256 hash;
    std::uint64_t size = 0;
    char buf[1 << 16];
    la_ssize_t n;
    while ((n = archive_read_data(inner, buf, sizeof buf)) > 0) {
        if (static_cast<std::uint64_t>(n) > budget.left) {
            ::close(fd);
            throw Error(what + ": " + image + " takes the package past " +
                        std::to_string(budget.limit) + " bytes unpacked (" + budget.basis +
                        "); refused as a decompression bomb");
        }
        budget.left -= static_cast<std::uint64_t>(n);
        hash.update(buf, static_cast<size_t>(n));
        size += static_cast<std::uint64_t>(n);
        const char* p = buf;
        while (n > 0) {
            ssize_t w = ::write(fd, p, static_cast<size_t>(n));
            if (w < 0) {
                if (errno == EINTR) continue;
                const int err = errno;
                ::close(fd);
                if (disk_full(err)) write_failed(disk, err);
                throw Error(what + ": cannot write " + disk.string() + ": " + std::strerror(err));
            }
            p += w;
            n -= w;
        }
    }
    ::close(fd);
    if (n < 0) throw Error(what + ": corrupt data (" + why(inner) + ")");
    record.size = size;
    record.sha256 = hash.hex();
}

// One entry of a stored package's data, in the order of its archive: `name` as the
// archive gives it (checked: relative, no "..", no control characters).
struct Entry {
    char type = 'f';  // f file (its data in data/<index>), d directory, l symlink, h hard link
    std::string name;
    std::uint32_t mode = 0644, uid = 0, gid = 0;
    std::uint64_t size = 0;
    std::string sha256;
    std::string link;  // a symlink's target, or the entry name a hard link points to
};

void to_json(json& j, const Entry& e) {
    j = json::array(
        {std::string(1, e.type), e.name, e.mode, e.uid, e.gid, e.size, e.sha256, e.link});
}

void from_json(const json& j, Entry& e) {
    e.type = j.at(0).get<std::string>().at(0);
    e.name = j.at(1).get<std::string>();
    e.mode = j.at(2).get<std::uint32_t>();
    e.uid = j.at(3).get<std::uint32_t>();
    e.gid = j.at(4).get<std::uint32_t>();
    e.size = j.at(5).get<std::uint64_t>();
    e.sha256 = j.at(6).get<std::string>();
    e.link = j.at(7).get<std::string>();
}

// Reads the data member into the store: every entry checked and listed, every
// regular file's bytes in data/<its index>, within the package's budget. With
// `wanted`, only the files it marks are written (and hashed); the others are listed
// without their size and digest.
void store_data(struct archive* inner, const fs::path& data, std::vector<Entry>& entries,
                std::vector<std::string>& left_out, const std::string& what, std::int64_t& newest,
                Budget& budget, const std::vector<bool>* wanted = nullptr) {
    struct archive_entry* e;
    int rc;
    while ((rc = archive_read_next_header(inner, &e)) == ARCHIVE_OK) {
        newest = std::max<std::int64_t>(newest, archive_entry_mtime(e));
        Entry entry;
        entry.name = archive_entry_pathname(e);
        const auto parts = entry_components(entry.name, what);
        if (parts.empty()) continue;  // "./" itself
        entry.mode = archive_entry_perm(e);
        entry.uid = static_cast<std::uint32_t>(archive_entry_uid(e));
        entry.gid = static_cast<std::uint32_t>(archive_entry_gid(e));
        if (const char* hardlink = archive_entry_hardlink(e)) {
            if (entry_components(hardlink, what).empty())
                throw Error(what + ": hard link '" + entry.name + "' to the root refused");
            entry.type = 'h';
            entry.link = hardlink;
            entries.push_back(std::move(entry));
            continue;
        }
        switch (archive_entry_filetype(e)) {
            case AE_IFDIR:
                entry.type = 'd';
                break;
            case AE_IFLNK:
                entry.type = 'l';
                entry.link = archive_entry_symlink(e);
                break;
            case AE_IFREG: {
                if (wanted && (entries.size() >= wanted->size() || !(*wanted)[entries.size()]))
                    break;
                FileRecord record;
                record.mode = entry.mode;
                std::string literal;
                for (const auto& p : parts) literal += "/" + p;
                write_regular(inner, data / std::to_string(entries.size()), literal, what, record,
                              budget);
                entry.size = record.size;
                entry.sha256 = std::move(record.sha256);
                break;
            }
            default:
                // Device nodes, FIFOs and sockets have no place in an image: a runtime
                // gives a container its /dev.
                left_out.push_back(entry.name);
                continue;
        }
        entries.push_back(std::move(entry));
    }
    if (rc != ARCHIVE_EOF)
        throw Error(what + ": corrupt data member (" + why(inner) +
                    "); the download is truncated or damaged");
}

// Where an entry goes in `root`: its directories resolved inside the root (and made
// when missing), then another package's diversion of it applied.
std::string place_of(const fs::path& root, const std::string& name, const std::string& package,
                     const Diversions& diversions, const std::string& what) {
    auto parts = entry_components(name, what);
    const std::string leaf = parts.back();
    parts.pop_back();
    std::string literal;
    for (const auto& p : parts) literal += "/" + p;
    literal += "/" + leaf;
    std::string image = join_image(resolve_dir(root, parts, what), leaf);
    auto diverted = diversions.find(image);
    if (diverted == diversions.end()) diverted = diversions.find(literal);
    if (diverted != diversions.end() && diverted->second.holder != package) {
        auto to = split(diverted->second.divert_to);
        const std::string to_leaf = to.back();
        to.pop_back();
        image = join_image(resolve_dir(root, to, what), to_leaf);
    }
    return image;
}

// A stored file put at `disk` as a hard link to the store (a copy where the two
// are on different file systems, or the file has all the links it may have).
void place_file(const fs::path& stored, const fs::path& disk, const std::string& what) {
    struct stat st;
    if (::lstat(disk.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            throw Error(what + ": a file would replace the directory " + disk.filename().string());
        ::unlink(disk.c_str());  // replace a file or symlink, never write through it
    }
    if (::link(stored.c_str(), disk.c_str()) == 0) return;
    const int err = errno;
    if (err != EXDEV && err != EMLINK) {
        if (disk_full(err)) write_failed(disk, err);
        throw Error(what + ": cannot create " + disk.string() + ": " + std::strerror(err));
    }
    std::error_code ec;
    if (!fs::copy_file(stored, disk, ec)) {
        if (disk_full(ec.value())) write_failed(disk, ec.value());
        throw Error(what + ": cannot create " + disk.string() + ": " + ec.message());
    }
}

void place_entries(const fs::path& stored, const std::vector<Entry>& entries, const fs::path& root,
                   const std::string& package, Manifest& manifest, const std::string& what,
                   const Diversions& diversions) {
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const Entry& entry = entries[i];
        const std::string image = place_of(root, entry.name, package, diversions, what);
        const fs::path disk = root / image.substr(1);

        FileRecord record;
        record.package = package;
        record.mode = entry.mode;
        record.uid = entry.uid;
        record.gid = entry.gid;

        switch (entry.type) {
            case 'h': {
                auto target_parts = entry_components(entry.link, what);
                const std::string target_leaf = target_parts.back();
                target_parts.pop_back();
                const std::string target =
                    join_image(resolve_dir(root, target_parts, what), target_leaf);
                // Only a regular file of the root may be linked: a link to a symlink would
                // later be read through it, possibly out of the root.
                struct stat target_st;
                if (::lstat((root / target.substr(1)).c_str(), &target_st) != 0 ||
                    !S_ISREG(target_st.st_mode))
                    throw Error(what + ": hard link '" + entry.name + "' to " + target +
                                ", which is not a regular file of the package, refused");
                ::unlink(disk.c_str());
                if (::link((root / target.substr(1)).c_str(), disk.c_str()) != 0)
                    throw Error(what + ": cannot link " + image + " to " + target + ": " +
                                std::strerror(errno));
                record.type = 'h';
                record.link = target;
                if (auto it = manifest.files.find(target); it != manifest.files.end()) {
                    record.size = it->second.size;
                    record.sha256 = it->second.sha256;
                }
                manifest.files[image] = record;
                break;
            }
            case 'd': {
                struct stat st;
                if (::lstat(disk.c_str(), &st) != 0) {
                    if (::mkdir(disk.c_str(), 0755) != 0)
                        throw Error(what + ": cannot create " + image + ": " +
                                    std::strerror(errno));
                } else if (S_ISLNK(st.st_mode)) {
                    resolve_dir(root, split(image),
                                what);  // a link to a directory stays, if it stays inside
                    continue;
                }
                record.type = 'd';
                manifest.files.try_emplace(image, record);
                break;
            }
            case 'l': {
                struct stat st;
                if (::lstat(disk.c_str(), &st) == 0) {
                    if (S_ISDIR(st.st_mode)) {
                        if (!fs::is_empty(disk))
                            continue;  // keep a populated directory, as dpkg does
                        ::rmdir(disk.c_str());
                    } else {
                        ::unlink(disk.c_str());
                    }
                }
                record.type = 'l';
                record.link = entry.link;
                record.mode = 0777;
                if (::symlink(record.link.c_str(), disk.c_str()) != 0)
                    throw Error(what + ": cannot create link " + image + ": " +
                                std::strerror(errno));
                manifest.files[image] = record;
                break;
            }
            default:
                record.type = 'f';
                place_file(stored / "data" / std::to_string(i), disk, what);
                record.size = entry.size;
                record.sha256 = entry.sha256;
                manifest.files[image] = record;
                break;
        }
    }
}

Budget budget_of(const UnpackLimits& limits, const PackageRecord& record) {
    if (limits.package_bytes != 0)
        return {limits.package_bytes, limits.package_bytes, "the limit given"};
    apt::Deb822 doc(record.control);
    if (auto it = doc.begin(); it != doc.end()) {
        const std::string_view kib = apt::trim((*it).get("Installed-Size"));
        std::uint64_t value = 0;
        if (!kib.empty() && kib.size() < 12 &&
            std::all_of(kib.begin(), kib.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            for (char c : kib) value = value * 10 + static_cast<std::uint64_t>(c - '0');
            const std::uint64_t limit = 2 * value * 1024 + (1u << 20);
            return {limit, limit, "twice its Installed-Size of " + std::string(kib) + " KiB"};
        }
    }
    constexpr std::uint64_t kNoSize = 4ull << 30;
    return {kNoSize, kNoSize, "it gives no Installed-Size"};
}

// What the store holds of a package: its list as store_deb wrote it.
struct StoredList {
    std::string what;  // "package (file.deb)", for messages
    PackageRecord record;
    std::vector<Entry> entries;
    std::vector<std::string> left_out;
};

StoredList read_stored_list(const fs::path& stored, const std::string& package) {
    StoredList list;
    list.what = package;
    try {
        const json j = json::parse(read_file(stored / kStoredList));
        list.what += " (" + j.at("deb").get<std::string>() + ")";
        list.record = j.at("package").get<PackageRecord>();
        list.entries = j.at("entries").get<std::vector<Entry>>();
        list.left_out = j.at("left_out").get<std::vector<std::string>>();
    } catch (const json::exception& e) {
        throw Error((stored / kStoredList).string() + " is damaged (" + e.what() +
                    "); remove it and build again");
    }
    return list;
}

// The files of a stored package that were shed, read again from its .deb and checked
// against what the store listed of them.
void refill(const fs::path& deb, const fs::path& dir, const std::string& package,
            const UnpackLimits& limits) {
    const StoredList list = read_stored_list(dir, package);
    const std::string& what = list.what;
    std::vector<bool> wanted(list.entries.size());
    std::error_code ec;
    bool any = false;
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        wanted[i] =
            list.entries[i].type == 'f' && !fs::exists(dir / "data" / std::to_string(i), ec);
        any = any || wanted[i];
    }
    if (any) {
        ArchivePtr outer = open_deb(deb, what);
        const fs::path tmp = temp_sibling(dir);
        const RemovedAtEnd remove{tmp};
        fs::create_directories(tmp);
        std::vector<Entry> entries;
        std::vector<std::string> left_out;
        std::int64_t newest = 0;
        Budget budget = budget_of(limits, list.record);
        struct archive_entry* e;
        while (archive_read_next_header(outer.get(), &e) == ARCHIVE_OK) {
            if (std::string(archive_entry_pathname(e)).rfind("data.tar", 0) != 0) continue;
            Nested nested{outer.get(), {}};
            auto inner = open_inner(nested, what);
            store_data(inner.get(), tmp, entries, left_out, what, newest, budget, &wanted);
        }
        for (std::size_t i = 0; i < wanted.size(); ++i) {
            if (!wanted[i]) continue;
            if (i >= entries.size() || entries[i].name != list.entries[i].name ||
                entries[i].sha256 != list.entries[i].sha256)
                throw Error(what + ": it no longer holds what the package store listed of it (" +
                            list.entries[i].name + "); remove " + dir.string() +
                            " and build again");
        }
        for (std::size_t i = 0; i < wanted.size(); ++i)
            if (wanted[i]) fs::rename(tmp / std::to_string(i), dir / "data" / std::to_string(i));
    }
    fs::remove(dir / kPartial, ec);
}

}  // namespace

PackageRecord read_deb_control(const fs::path& deb, const std::string& package) {
    const std::string what = package + " (" + deb.filename().string() + ")";
    ArchivePtr outer = open_deb(deb, what);
    PackageRecord record;
    struct archive_entry* e;
    while (archive_read_next_header(outer.get(), &e) == ARCHIVE_OK) {
        if (std::string(archive_entry_pathname(e)).rfind("control.tar", 0) != 0) continue;
        Nested nested{outer.get(), {}};
        auto inner = open_inner(nested, what);
        read_control(inner.get(), record, what);
        return record;
    }
    throw Error(what +
                ": not a complete .deb (no control member); the file is truncated or damaged");
}

fs::path store_deb(const fs::path& deb, const fs::path& store, const std::string& sha256,
                   const std::string& package, UnpackLimits limits) {
    fs::path dir = store / sha256;
    std::error_code ec;
    const std::string what = package + " (" + deb.filename().string() + ")";
    if (fs::exists(dir / kStoredList, ec)) {
        if (fs::exists(dir / kPartial, ec)) refill(deb, dir, package, limits);
        return dir;
    }
    ArchivePtr outer = open_deb(deb, what);
    fs::create_directories(store);
    const fs::path tmp = temp_sibling(dir);
    fs::create_directories(tmp / "data");
    try {
        PackageRecord record;
        std::vector<Entry> entries;
        std::vector<std::string> left_out;
        bool saw_data = false, saw_control = false;
        struct archive_entry* e;
        int rc;
        while ((rc = archive_read_next_header(outer.get(), &e)) == ARCHIVE_OK) {
            const std::string member = archive_entry_pathname(e);
            Nested nested{outer.get(), {}};
            if (member.rfind("control.tar", 0) == 0) {
                auto inner = open_inner(nested, what);
                read_control(inner.get(), record, what);
                saw_control = true;
            } else if (member.rfind("data.tar", 0) == 0) {
                auto inner = open_inner(nested, what);
                Budget budget = budget_of(limits, record);  // control comes first in a .deb
                store_data(inner.get(), tmp / "data", entries, left_out, what, record.mtime,
                           budget);
                saw_data = true;
            }
        }
        if (rc != ARCHIVE_EOF) throw Error(what + ": corrupt .deb (" + why(outer.get()) + ")");
        if (!saw_data || !saw_control)
            throw Error(what + ": not a complete .deb (no " + (saw_data ? "control" : "data") +
                        " member); the file is truncated or damaged");
        apt::Deb822 doc(record.control);
        if (auto it = doc.begin(); it != doc.end()) {
            record.version = std::string((*it).get("Version"));
            record.arch = std::string((*it).get("Architecture"));
        }
        write_file_atomic(tmp / kStoredList,
                          json{{"deb", deb.filename().string()},
                               {"package", record},
                               {"entries", entries},
                               {"left_out", left_out}}
                              .dump(-1, ' ', false, json::error_handler_t::replace));
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
    fs::rename(tmp, dir, ec);
    if (ec) {
        fs::remove_all(tmp, ec);  // another process stored it first
        if (!fs::exists(dir / kStoredList, ec))
            throw Error(what + ": cannot store it in " + dir.string());
    }
    return dir;
}

PackageRecord stored_control(const fs::path& stored) {
    try {
        return json::parse(read_file(stored / kStoredList)).at("package").get<PackageRecord>();
    } catch (const json::exception& e) {
        throw Error((stored / kStoredList).string() + " is damaged (" + e.what() +
                    "); remove it and build again");
    }
}

void place_deb(const fs::path& stored, const fs::path& root, const std::string& package,
               Manifest& manifest, const Diversions& diversions) {
    StoredList list = read_stored_list(stored, package);
    for (const auto& name : list.left_out)
        log::detail(list.what + ": " + name + " left out (not a file, directory or link)");
    // Placed now: the store keeps what was placed lately (see prune_store).
    std::error_code ec;
    fs::last_write_time(stored / kStoredList, fs::file_time_type::clock::now(), ec);
    fs::create_directories(root);
    place_entries(stored, list.entries, root, package, manifest, list.what, diversions);
    manifest.packages[package] = std::move(list.record);
}

void unpack_deb(const fs::path& deb, const fs::path& root, const std::string& package,
                Manifest& manifest, UnpackLimits limits, const Diversions& diversions) {
    // A store of its own, gone once the files are linked into the root.
    const fs::path store = temp_sibling(root);
    const RemovedAtEnd remove{store};
    place_deb(store_deb(deb, store, "deb", package, limits), root, package, manifest, diversions);
}

namespace {

// Each stored package's directory, with the store held alone; none while another
// process holds store_in_use.
void each_stored_alone(const fs::path& store, const std::function<void(const fs::path&)>& visit) {
    std::error_code ec;
    if (!fs::is_directory(store, ec)) return;
    FileLock lock(store / kStoreLock, FileLock::Wait::no);
    if (!lock.held()) return;  // another process is storing or placing packages
    for (const auto& entry : fs::directory_iterator(store, ec))
        if (!entry.path().filename().string().starts_with('.')) visit(entry.path());
}

}  // namespace

std::size_t prune_store(const fs::path& store, std::chrono::seconds unused_for) {
    const auto before = fs::file_time_type::clock::now() - unused_for;
    std::size_t removed = 0;
    each_stored_alone(store, [&](const fs::path& dir) {
        std::error_code ec;
        const auto placed = fs::last_write_time(dir / kStoredList, ec);
        if (ec || placed > before) return;
        // Kept while a tree still links one of its files.
        for (const auto& f : fs::directory_iterator(dir / "data", ec)) {
            struct stat st;
            if (::lstat(f.path().c_str(), &st) == 0 && st.st_nlink > 1) return;
        }
        fs::remove_all(dir, ec);
        ++removed;
    });
    return removed;
}

std::unique_ptr<FileLock> store_in_use(const fs::path& store) {
    return std::make_unique<FileLock>(store / kStoreLock, FileLock::Wait::yes,
                                      FileLock::Mode::shared);
}

TreeSlimmed slim_tree(const fs::path& root, const std::vector<fs::path>& keep) {
    std::set<std::pair<dev_t, ino_t>> kept;
    for (const auto& path : keep) {
        struct stat st;
        if (::stat(path.c_str(), &st) == 0) kept.emplace(st.st_dev, st.st_ino);
    }
    TreeSlimmed slimmed;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        struct stat st;
        if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink < 2 ||
            kept.count({st.st_dev, st.st_ino}))
            continue;
        if (::unlink(it->path().c_str()) == 0) {
            ++slimmed.files;
            slimmed.bytes += static_cast<std::uint64_t>(st.st_size);
        }
    }
    return slimmed;
}

TreeSlimmed shed_store(const fs::path& store) {
    TreeSlimmed shed;
    each_stored_alone(store, [&](const fs::path& dir) {
        std::error_code ec;
        if (!fs::exists(dir / kStoredList, ec)) return;
        std::vector<fs::path> unlinked;
        for (const auto& f : fs::directory_iterator(dir / "data", ec)) {
            struct stat st;
            if (::lstat(f.path().c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) {
                unlinked.push_back(f.path());
                shed.bytes += static_cast<std::uint64_t>(st.st_size);
            }
        }
        if (unlinked.empty()) return;
        // Marked first: a package is never short of files without saying so. The mark
        // is an empty file made in place and synced, with no temporary to leave
        // behind if the run is killed here (the next run sweeps the store's top
        // only): a mark made for files still there only has them looked for.
        const fs::path mark = dir / kPartial;
        const int fd = ::open(mark.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) write_failed(mark, errno);
        const bool synced = ::fsync(fd) == 0;
        const int sync_error = errno;
        ::close(fd);
        if (!synced) write_failed(mark, sync_error);
        for (const auto& f : unlinked)
            if (::unlink(f.c_str()) == 0) ++shed.files;
    });
    return shed;
}

}  // namespace dmc::rootfs
