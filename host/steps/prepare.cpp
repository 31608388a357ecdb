// The prepare step: each template of the image declares the packages it needs.
#include "contents/features.hpp"
#include "log/log.hpp"
#include "steps/saved.hpp"
#include "steps/steps.hpp"

namespace dmc::steps {

void prepare(Context& context, const tasks::Task& task) {
    plugin::PrepareResult result;
    for (const auto* t : context.catalog.composition(task.template_name))
        plugin::run_prepare(*t, context.hook_settings(*t, task.arch, task.template_name), result);
    // A feature dmc does not know fails here, at the template that wants it.
    contents::Features::of(result.features, context.settings.tools, context.settings.small);
    save_prepare(context.work_dir(task.template_name, task.arch), result);
    log::info("packages of " + task.template_name + ": " + config::join(result.packages, " "));
}

}  // namespace dmc::steps
