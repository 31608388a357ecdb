#include "image/diff.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <array>
#include <cstdio>
#include <memory>

#include "apt/deb822.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

namespace dmc::image {
namespace {

constexpr std::string_view status_dir = "/var/lib/dpkg/status.d/";

std::string absolute(std::string name) {
    while (name.starts_with("./")) name.erase(0, 2);
    if (!name.starts_with("/")) name.insert(0, "/");
    while (name.size() > 1 && name.ends_with("/")) name.pop_back();
    return name;
}

// "1.2 MB", or "a symlink to X", for one side of a changed file.
std::string describe(const ListedFile& f) {
    switch (f.type) {
        case 'd':
            return "a directory";
        case 'l':
            return "a symlink to " + f.target;
        case 'h':
            return "a hard link to " + f.target;
        case 'f':
            return human_size(f.size);
        default:
            return "a special file";
    }
}

}  // namespace

std::string human_size(std::uint64_t bytes) {
    if (bytes < 1000) return std::to_string(bytes) + " B";
    constexpr std::array<const char*, 4> units{"kB", "MB", "GB", "TB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    value /= 1000;
    while (value >= 1000 && unit + 1 < units.size()) {
        value /= 1000;
        ++unit;
    }
    std::array<char, 32> text{};
    std::snprintf(text.data(), text.size(), value < 10 ? "%.2f %s" : "%.1f %s", value, units[unit]);
    return text.data();
}

Listing list_layer(std::string_view layer) {
    std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_memory(a.get(), layer.data(), layer.size()) != ARCHIVE_OK)
        throw Error(std::string("the layer is not a tar: ") + archive_error_string(a.get()));
    Listing out;
    std::map<std::string, std::string> records;  // status.d file -> its text
    archive_entry* entry = nullptr;
    int rc = ARCHIVE_OK;
    while ((rc = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK) {
        const char* raw = archive_entry_pathname(entry);
        if (raw == nullptr) continue;
        const std::string path = absolute(raw);
        ListedFile f;
        f.mode = archive_entry_perm(entry);
        if (const char* hard = archive_entry_hardlink(entry)) {
            f.type = 'h';
            f.target = absolute(hard);
        } else {
            switch (archive_entry_filetype(entry)) {
                case AE_IFREG:
                    f.type = 'f';
                    break;
                case AE_IFDIR:
                    f.type = 'd';
                    break;
                case AE_IFLNK:
                    f.type = 'l';
                    f.target = archive_entry_symlink(entry) ? archive_entry_symlink(entry) : "";
                    break;
                default:
                    f.type = 'o';
            }
        }
        if (f.type == 'f') {
            Sha256 hash;
            std::string text;
            const bool record = path.starts_with(status_dir);
            std::array<char, 1 << 16> buffer{};
            la_ssize_t n = 0;
            while ((n = archive_read_data(a.get(), buffer.data(), buffer.size())) > 0) {
                const std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
                hash.update(chunk);
                f.size += static_cast<std::uint64_t>(n);
                if (record) text.append(chunk);
            }
            if (n < 0)
                throw Error("the layer is damaged at " + path + ": " +
                            archive_error_string(a.get()));
            f.sha256 = hash.hex();
            out.bytes += f.size;
            if (record) records[path] = std::move(text);
        }
        out.files[path] = std::move(f);
    }
    if (rc != ARCHIVE_EOF)
        throw Error(std::string("the layer is damaged: ") + archive_error_string(a.get()));
    for (const auto& [path, text] : records)
        for (const apt::Stanza& s : apt::Deb822(text)) {
            const std::string name(s.get("Package"));
            if (!name.empty())
                out.packages[name] =
                    std::string(s.get("Version")) + " (" + std::string(s.get("Architecture")) + ")";
        }
    return out;
}

std::vector<Difference> compare(const Listing& before, const Listing& after) {
    std::vector<Difference> out;
    // Both maps are sorted: one walk gives removed, added and changed in name order.
    auto walk = [&out](const auto& a, const auto& b, const std::string& what, auto show,
                       auto changed) {
        auto i = a.begin();
        auto j = b.begin();
        while (i != a.end() || j != b.end()) {
            if (j == b.end() || (i != a.end() && i->first < j->first)) {
                out.push_back({'-', what, i->first, show(i->second), ""});
                ++i;
            } else if (i == a.end() || j->first < i->first) {
                out.push_back({'+', what, j->first, "", show(j->second)});
                ++j;
            } else {
                if (changed(i->second, j->second))
                    out.push_back({'~', what, i->first, show(i->second), show(j->second)});
                ++i;
                ++j;
            }
        }
    };
    walk(
        before.packages, after.packages, "package", [](const std::string& v) { return v; },
        [](const std::string& x, const std::string& y) { return x != y; });
    walk(
        before.files, after.files, "file",
        [](const ListedFile& f) {
            std::string text = describe(f);
            if (f.type == 'f' || f.type == 'd') {
                std::array<char, 8> mode{};
                std::snprintf(mode.data(), mode.size(), "%04o", f.mode);
                text += std::string(", ") + mode.data();
            }
            if (f.type == 'f') text += ", sha256:" + f.sha256.substr(0, 12);
            return text;
        },
        [](const ListedFile& x, const ListedFile& y) { return !(x == y); });
    return out;
}

}  // namespace dmc::image
