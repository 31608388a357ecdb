// The lock step of update: every selected template and arch resolved again from the
// refreshed indexes; each change against the lock said as "name old -> new", marked
// when it came from a security suite, then one summary line (or, with --json, one
// JSON document); then the lock rewritten. A lock entry of a template no plugin
// provides any more is dropped.
#include <iostream>
#include <nlohmann/json.hpp>

#include "log/log.hpp"
#include "steps/steps.hpp"

using nlohmann::ordered_json;

namespace dmc::steps {
namespace {

struct Change {
    std::string package, old_version, new_version;  // empty: added or removed
    bool security = false;
};

std::vector<Change> changes_between(const lock::Entry& old, const lock::Entry& now) {
    std::map<std::string, const lock::Package*> before, after;
    for (const auto& p : old.packages) before[p.name + ":" + p.arch] = &p;
    for (const auto& p : now.packages) after[p.name + ":" + p.arch] = &p;
    std::vector<Change> out;
    for (const auto& [id, p] : after) {
        auto it = before.find(id);
        if (it != before.end() && it->second->version == p->version) continue;
        out.push_back({p->name, it == before.end() ? "" : it->second->version, p->version,
                       apt::security_suite(p->suite)});
    }
    for (const auto& [id, p] : before)
        if (!after.count(id)) out.push_back({p->name, p->version, "", false});
    // The source of a build from source, said as "source NAME OLD -> NEW".
    const auto* was = old.source ? &*old.source : nullptr;
    const auto* is = now.source ? &*now.source : nullptr;
    if ((was || is) && !(was && is && *was == *is))
        out.push_back({"source " + (is ? is->name : was->name), was ? was->version : "",
                       is ? is->version : "", false});
    return out;
}

}  // namespace

void lock_images(Context& context, const tasks::Task&) {
    const auto& settings = context.settings;
    auto& lock = context.lock();
    ordered_json images = ordered_json::array();
    std::size_t changed_images = 0, changes = 0, security = 0, added = 0;
    for (const auto& tmpl : context.templates) {
        for (const auto& arch : settings.archs) {
            const lock::Entry* found = lock.find(settings.dist, arch, tmpl);
            const std::optional<lock::Entry> old =
                found ? std::optional<lock::Entry>(*found) : std::nullopt;
            resolve_template(context, tmpl, arch, LockUse::renew);
            const lock::Entry* now = lock.find(settings.dist, arch, tmpl);
            ordered_json image{{"template", tmpl},
                               {"dist", settings.dist},
                               {"arch", arch},
                               {"new", !old},
                               {"changes", ordered_json::array()}};
            if (!old) {
                ++added;
                const std::size_t count = now ? now->packages.size() : 0;
                if (!context.json)
                    log::result(tmpl + " " + arch + ": " + std::to_string(count) +
                                " packages, new in the lock");
                images.push_back(image);
                continue;
            }
            if (now == nullptr) continue;  // --no-lock: nothing to compare with
            const auto found_changes = changes_between(*old, *now);
            for (const auto& c : found_changes) {
                const std::string line = tmpl + " " + arch + ": " + c.package + " " +
                                         (c.old_version.empty() ? "(new)" : c.old_version) +
                                         " -> " +
                                         (c.new_version.empty() ? "(removed)" : c.new_version) +
                                         (c.security ? " (security)" : "");
                if (context.json)
                    log::info(line);
                else
                    log::result(line);
                image["changes"].push_back(
                    {{"package", c.package},
                     {"old",
                      c.old_version.empty() ? ordered_json(nullptr) : ordered_json(c.old_version)},
                     {"new",
                      c.new_version.empty() ? ordered_json(nullptr) : ordered_json(c.new_version)},
                     {"security", c.security}});
                security += c.security ? 1 : 0;
            }
            changes += found_changes.size();
            changed_images += found_changes.empty() ? 0 : 1;
            images.push_back(image);
        }
    }
    // The entries of templates that no loaded plugin makes any more go.
    std::vector<std::string> gone;
    for (const auto& [key, entry] : lock.entries())
        if (entry.dist == settings.dist && context.catalog.find(entry.image) == nullptr)
            gone.push_back(key);
    for (const auto& key : gone) {
        log::notice(key + ": no plugin makes this template any more; dropped from the lock");
        lock.erase(key);
    }
    const bool wrote = context.save_lock();
    const std::size_t total = context.templates.size() * settings.archs.size();
    std::string summary =
        "update: " +
        (changes == 0
             ? std::string("no package changed")
             : std::to_string(changes) + (changes == 1 ? " change" : " changes") + " in " +
                   std::to_string(changed_images) + " of " + std::to_string(total) + " images" +
                   (security ? " (" + std::to_string(security) + " from security)" : ""));
    if (added) summary += ", " + std::to_string(added) + " images newly locked";
    summary += !settings.use_lock ? "; the lock was not written (--no-lock)"
               : wrote            ? "; " + settings.lock_file.string() + " rewritten"
                                  : "; " + settings.lock_file.string() + " is current";
    if (context.json) {
        log::info(summary);
        ordered_json report{{"lock", settings.use_lock ? settings.lock_file.string() : ""},
                            {"written", wrote},
                            {"changes", changes},
                            {"security", security},
                            {"changed_images", changed_images},
                            {"images", images}};
        std::cout << report.dump(2) << "\n" << std::flush;
    } else {
        log::result(summary);
    }
}

}  // namespace dmc::steps
