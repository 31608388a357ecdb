#include "rootfs/path.hpp"

#include <algorithm>
#include <system_error>

namespace fs = std::filesystem;

namespace dmc {

namespace {

// Linux's MAXSYMLINKS: the number of links one lookup may traverse.
constexpr int kMaxSymlinks = 40;

std::vector<std::string> split_components(std::string_view path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        if (end > start) parts.emplace_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

std::string join_image_path(const std::vector<std::string>& components) {
    if (components.empty()) return "/";
    std::string out;
    for (const std::string& c : components) {
        out += '/';
        out += c;
    }
    return out;
}

// The host path of an image path made of already-resolved components: none of
// them is a symlink, "." or "..", so the result cannot leave the root.
fs::path host_path(const fs::path& root, const std::vector<std::string>& components) {
    fs::path out = root;
    for (const std::string& c : components) out /= c;
    return out;
}

// Resolves `image_path` and, when `chain` is given, records the image path of
// every symlink traversed.
std::optional<std::string> resolve(const fs::path& root, std::string_view image_path,
                                   bool follow_last, std::vector<std::string>* chain) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return std::nullopt;

    // Components still to walk, the next one last, so that a link target can
    // be pushed in front of what remains.
    std::vector<std::string> pending = split_components(image_path);
    std::reverse(pending.begin(), pending.end());
    std::vector<std::string> resolved;
    int links_followed = 0;

    while (!pending.empty()) {
        std::string component = std::move(pending.back());
        pending.pop_back();
        if (component == ".") continue;
        if (component == "..") {
            if (!resolved.empty()) resolved.pop_back();
            continue;
        }
        resolved.push_back(std::move(component));
        const bool is_last = pending.empty();
        const fs::path host = host_path(root, resolved);
        const fs::file_status status = fs::symlink_status(host, ec);
        if (ec || !fs::exists(status)) return std::nullopt;

        if (fs::is_symlink(status) && (follow_last || !is_last)) {
            if (++links_followed > kMaxSymlinks) return std::nullopt;
            const fs::path target = fs::read_symlink(host, ec);
            if (ec) return std::nullopt;
            if (chain != nullptr) chain->push_back(join_image_path(resolved));
            resolved.pop_back();  // the target is relative to the link's directory
            const std::string target_text = target.string();
            if (!target_text.empty() && target_text.front() == '/') resolved.clear();
            std::vector<std::string> target_parts = split_components(target_text);
            pending.insert(pending.end(), target_parts.rbegin(), target_parts.rend());
            continue;
        }
        if (!is_last && !fs::is_directory(status)) return std::nullopt;
    }
    return join_image_path(resolved);
}

}  // namespace

std::string normalize_image_path(std::string_view image_path) {
    std::vector<std::string> out;
    for (std::string& component : split_components(image_path)) {
        if (component == ".") continue;
        if (component == "..") {
            if (!out.empty()) out.pop_back();
            continue;
        }
        out.push_back(std::move(component));
    }
    return join_image_path(out);
}

std::optional<std::string> resolve_in_root(const fs::path& root, std::string_view image_path,
                                           bool follow_last) {
    return resolve(root, image_path, follow_last, nullptr);
}

std::vector<std::string> symlink_chain(const fs::path& root, std::string_view image_path) {
    std::vector<std::string> links;
    const std::optional<std::string> target = resolve(root, image_path, true, &links);
    if (!target) return {};
    links.push_back(*target);
    std::vector<std::string> unique;
    for (std::string& entry : links) {
        if (std::find(unique.begin(), unique.end(), entry) == unique.end())
            unique.push_back(std::move(entry));
    }
    return unique;
}

}  // namespace dmc
