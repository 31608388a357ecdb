#include "contents/features.hpp"

#include <algorithm>

#include "config/settings.hpp"
#include "util/error.hpp"

namespace dmc::contents {

const std::vector<std::string>& known_features() {
    static const std::vector<std::string> features = {"ca-certificates", "small", "system-users",
                                                      "tzdata"};
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
    for (const auto& w : wanted)  // ca-certificates and tzdata are packages of that name
        out.push_back(w == "system-users" ? "base-passwd" : w);
    if (tools) out.push_back("busybox-static");
    out.push_back("base-files");
    return out;
}

std::vector<std::string> Features::collected_paths() const {
    std::vector<std::string> out;
    for (const auto& w : wanted) {
        if (w == "tzdata") out.push_back("/usr/share/zoneinfo");
        if (w == "ca-certificates") out.push_back("/usr/share/ca-certificates");
    }
    return out;
}

const std::vector<MergedUsrLink>& merged_usr_links() {
    static const std::vector<MergedUsrLink> links = {
        {"bin", true}, {"sbin", true}, {"lib", true}, {"lib64", false}};
    return links;
}

}  // namespace dmc::contents
