#include "contents/features.hpp"

#include <algorithm>

#include "config/settings.hpp"
#include "util/error.hpp"

namespace dmc::contents {

namespace {

// Each feature a template may want: the package that brings it and the paths of that
// package the image takes (what the base adds besides is in contents/assemble.cpp).
struct FeatureRow {
    const char* name;
    const char* package;
    std::vector<std::string> paths;
};
const std::vector<FeatureRow>& feature_table() {
    static const std::vector<FeatureRow> rows = {
        // the bundle, /etc/ssl/certs/NAME.pem and the OpenSSL hash links
        {"ca-certificates", "ca-certificates", {"/usr/share/ca-certificates"}},
        {"mime-types", "media-types", {"/etc/mime.types"}},
        {"small", nullptr, {}},
        {"system-users", "base-passwd", {}},            // Configure::system_user()'s fixed ids
        {"tzdata", "tzdata", {"/usr/share/zoneinfo"}},  // and /etc/localtime, UTC
    };
    return rows;
}

const FeatureRow& row_of(const std::string& feature) {
    for (const auto& row : feature_table())
        if (feature == row.name) return row;
    throw Error("unknown image feature '" + feature + "'");
}

}  // namespace

const std::vector<std::string>& known_features() {
    static const std::vector<std::string> features = [] {
        std::vector<std::string> names;
        for (const auto& row : feature_table()) names.emplace_back(row.name);
        return names;
    }();
    return features;
}

Features Features::of(const std::vector<std::string>& wanted, bool tools, bool small) {
    Features f;
    f.tools = tools;
    f.small = small;
    for (const auto& w : wanted) {
        const auto& known = known_features();
        if (std::find(known.begin(), known.end(), w) == known.end())
            throw Error("unknown image feature '" + w +
                        "' wanted; known features: " + config::join(known, ", "));
        if (w == "small")
            f.small = true;
        else if (!f.wants(w))
            f.wanted.push_back(w);
    }
    return f;
}

bool Features::wants(const std::string& feature) const {
    return std::find(wanted.begin(), wanted.end(), feature) != wanted.end();
}

std::vector<std::string> Features::packages() const {
    std::vector<std::string> out;
    for (const auto& w : wanted)
        if (const char* package = row_of(w).package) out.push_back(package);
    if (tools) out.push_back("busybox-static");
    out.push_back("base-files");
    return out;
}

std::vector<std::string> Features::collected_paths() const {
    std::vector<std::string> out;
    for (const auto& w : wanted)
        for (const auto& path : row_of(w).paths) out.push_back(path);
    return out;
}

const std::vector<MergedUsrLink>& merged_usr_links() {
    static const std::vector<MergedUsrLink> links = {
        {"bin", true}, {"sbin", true}, {"lib", true}, {"lib64", false}};
    return links;
}

}  // namespace dmc::contents
