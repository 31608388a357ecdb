// The resolve activity, and resolving a template's packages for the rootfs step:
// its prepare output, the features' packages and the lock file's pins against the
// verified indexes, with the answer kept while its inputs stay the same.
#include <algorithm>
#include <sstream>

#include "apt/resolver.hpp"
#include "contents/features.hpp"
#include "log/log.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

std::map<std::string, std::string> parse_lock_file(const std::string& text,
                                                   const std::string& origin) {
    std::map<std::string, std::string> pins;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        std::replace(line.begin(), line.end(), '=', ' ');
        std::istringstream words(line);
        std::string name, version, extra;
        if (!(words >> name)) continue;
        if (!(words >> version) || (words >> extra))
            throw Error(origin + ":" + std::to_string(number) + ": expected 'name version', got '" +
                        line + "'");
        pins[name] = version;
    }
    return pins;
}

void resolve(Context& context, const tasks::Task& task) {
    auto& archive = context.archive();
    auto index = archive.load(archive.indexes(task.arch, false));
    apt::ResolveRequest request;
    request.packages = context.arguments;
    request.native_arch = task.arch;
    auto result = apt::resolve(index, request);
    for (const auto& problem : result.problems) log::warning(problem);
    for (const auto* p : result.packages)
        log::result(std::string(p->name()) + " " + std::string(p->version()) + " " +
                    std::string(p->architecture()));
}

std::vector<apt::PackageRef> resolve_template(Context& context, const std::string& tmpl,
                                              const std::string& arch, bool refresh) {
    const auto& settings = context.settings;
    const fs::path dir = context.work_dir(tmpl, arch);
    auto prepared = load_prepare(dir);
    apt::ResolveRequest request;
    request.packages = prepared.packages;
    request.excludes = prepared.excludes;
    request.native_arch = arch;
    const auto features = contents::Features::of(prepared.features, settings.tools, settings.small);
    for (const auto& p : features.packages()) request.packages.push_back(p);

    std::string lock_text;
    if (!settings.lock_file.empty()) {
        lock_text = read_file(settings.lock_file);
        request.pins = parse_lock_file(lock_text, settings.lock_file.string());
    }

    auto& archive = context.archive();
    auto files = archive.indexes(arch, refresh);
    // The same indexes and request resolve the same way: keep the answer.
    std::string key_text = arch + "|" + lock_text;
    for (const auto& f : files)
        key_text += "|" + f.mirror + " " + f.suite + " " + f.component + " " + f.sha256;
    for (const auto& p : request.packages) key_text += "|+" + p;
    for (const auto& p : request.excludes) key_text += "|-" + p;
    const std::string key = sha256_hex(key_text);
    if (auto saved = load_resolution(dir); saved && saved->key == key) return saved->packages;
    auto index = archive.load(files);
    auto result = apt::resolve(index, request);
    for (const auto& problem : result.problems) log::warning(tmpl + " " + arch + ": " + problem);
    Resolution resolution{key, {}};
    for (const auto* p : result.packages) resolution.packages.push_back(apt::PackageRef::of(*p));
    save_resolution(dir, resolution);
    return resolution.packages;
}

}  // namespace dmc::steps
