// The buildenv step of setup and update: the build environment of every selected
// template that builds from source, for each arch. setup makes those not made yet;
// update makes again those whose indexes have changed since they were made.
#include "log/log.hpp"
#include "steps/steps.hpp"

namespace dmc::steps {

void build_environments(Context& context, const tasks::Task& task) {
    const auto& settings = context.settings;
    std::size_t made = 0, kept = 0;
    for (const auto& tmpl : context.templates)
        for (const auto& arch : settings.archs) {
            const auto src = template_source(context, tmpl, arch);
            if (!src) continue;
            auto request = buildenv_request(context, tmpl, arch, *src);
            request.refresh = task.step == tasks::Step::update_buildenv;
            source::BuildEnvState state{};
            source::ensure_buildenv(request, &state);
            ++(state == source::BuildEnvState::made ? made : kept);
        }
    if (made + kept == 0) {
        log::notice("no selected template builds from source");
        return;
    }
    log::notice(std::to_string(made) + " build environments made, " + std::to_string(kept) +
                (task.step == tasks::Step::update_buildenv ? " current" : " ready already"));
}

}  // namespace dmc::steps
