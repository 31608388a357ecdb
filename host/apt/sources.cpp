#include "apt/sources.hpp"

#include <algorithm>
#include <sstream>

#include "apt/deb822.hpp"
#include "log/log.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dmc::apt {
namespace {

// "bookworm-security" -> "{dist}-security"; "bookworm" -> "{dist}"; backports -> "".
std::string suite_template(const std::string& suite) {
    auto dash = suite.find('-');
    if (dash == std::string::npos) return "{dist}";
    auto suffix = suite.substr(dash);
    if (suffix == "-backports" || suffix == "-backports-sloppy" || suffix == "-proposed-updates")
        return "";
    return "{dist}" + suffix;
}

void add(std::vector<config::Mirror>& out, std::string url, const std::vector<std::string>& suites,
         const std::vector<std::string>& components, const std::string& keyring) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.rfind("cdrom:", 0) == 0 || url.empty()) return;
    if (auto why = config::unsupported_url(url)) {
        log::warning("apt source " + redact_credentials(url) + " skipped: it must be " + *why);
        return;
    }
    for (const auto& suite : suites) {
        auto tmpl = suite_template(suite);
        if (tmpl.empty()) continue;
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const config::Mirror& m) { return m.url == url; });
        if (it == out.end()) {
            config::Mirror m;
            m.url = url;
            m.suites.clear();
            m.components = components;
            m.keyring = keyring;
            out.push_back(m);
            it = out.end() - 1;
        }
        if (std::find(it->suites.begin(), it->suites.end(), tmpl) == it->suites.end())
            it->suites.push_back(tmpl);
    }
}

void read_list(std::vector<config::Mirror>& out, const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        auto w = words(line);
        if (w.size() < 3 || w[0] != "deb") continue;
        std::size_t i = 1;
        std::string keyring;
        if (w[1].front() == '[') {  // [ option=value ... ]
            for (; i < w.size(); ++i) {
                auto opt = w[i];
                opt.erase(std::remove(opt.begin(), opt.end(), '['), opt.end());
                opt.erase(std::remove(opt.begin(), opt.end(), ']'), opt.end());
                if (opt.rfind("signed-by=", 0) == 0) keyring = opt.substr(10);
                if (w[i].back() == ']') {
                    ++i;
                    break;
                }
            }
        }
        if (i + 1 >= w.size()) continue;
        std::vector<std::string> components(w.begin() + static_cast<long>(i) + 2, w.end());
        if (components.empty()) components = {"main"};
        add(out, w[i], {w[i + 1]}, components, keyring);
    }
}

void read_sources(std::vector<config::Mirror>& out, const std::string& text) {
    for (Stanza s : Deb822(text)) {
        auto types = words(s.get("Types"));
        if (std::find(types.begin(), types.end(), "deb") == types.end()) continue;
        auto enabled = s.get("Enabled");
        if (enabled == "no" || enabled == "false") continue;
        auto signed_by = s.get("Signed-By");
        std::string keyring = signed_by.find('\n') == std::string_view::npos
                                  ? std::string(signed_by)
                                  : std::string();  // inline keys: use the default
        auto components = words(s.get("Components"));
        if (components.empty()) components = {"main"};
        for (const auto& uri : words(s.get("URIs")))
            add(out, uri, words(s.get("Suites")), components, keyring);
    }
}

}  // namespace

std::vector<config::Mirror> host_sources(const fs::path& etc_apt) {
    std::vector<config::Mirror> out;
    std::error_code ec;
    if (fs::is_regular_file(etc_apt / "sources.list", ec))
        read_list(out, read_file(etc_apt / "sources.list"));
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(etc_apt / "sources.list.d", ec))
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        if (f.extension() == ".list")
            read_list(out, read_file(f));
        else if (f.extension() == ".sources")
            read_sources(out, read_file(f));
    }
    return out;
}

std::vector<std::string> suites_for(const config::Mirror& mirror, const std::string& dist) {
    std::vector<std::string> out;
    for (auto s : mirror.suites.empty() ? std::vector<std::string>{"{dist}"} : mirror.suites) {
        if (auto at = s.find("{dist}"); at != std::string::npos) s.replace(at, 6, dist);
        out.push_back(s);
    }
    return out;
}

}  // namespace dmc::apt
