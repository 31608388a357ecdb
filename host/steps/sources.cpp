// The sources step of setup: the source of every selected template that builds from
// source, for each arch, fetched into the cache and checked, so that a later build
// starts from files already verified.
#include "log/log.hpp"
#include "steps/steps.hpp"

namespace dmc::steps {

void fetch_sources(Context& context, const tasks::Task&) {
    const auto& settings = context.settings;
    std::size_t fetched = 0;
    for (const auto& tmpl : context.templates)
        for (const auto& arch : settings.archs) {
            auto src = template_source(context, tmpl, arch);
            if (!src) continue;
            source::fetch(context.archive(), *src, settings.cache_dir, source_keyring(settings));
            log::info(tmpl + " " + arch + ": source " + src->name + " " + src->version + " (" +
                      src->origin + ") fetched and verified, " + std::to_string(src->files.size()) +
                      " files");
            ++fetched;
        }
    log::notice(fetched ? std::to_string(fetched) + " sources fetched and verified"
                        : std::string("no selected template builds from source"));
}

}  // namespace dmc::steps
