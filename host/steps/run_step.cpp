#include "steps/steps.hpp"
#include "util/error.hpp"

namespace dmc::steps {

void run_step(Context& context, const tasks::Task& task) {
    using tasks::Step;
    switch (task.step) {
        case Step::dirs:
            return make_dirs(context, task);
        case Step::setup:
        case Step::update:
            return refresh_indexes(context, task);
        case Step::lock:
            return lock_images(context, task);
        case Step::sources:
            return fetch_sources(context, task);
        case Step::buildenv:
        case Step::update_buildenv:
            return build_environments(context, task);
        case Step::resolve:
            return resolve(context, task);
        case Step::prepare:
            return prepare(context, task);
        case Step::rootfs:
            return rootfs(context, task);
        case Step::collect:
            return collect(context, task);
        case Step::configure:
            return configure(context, task);
        case Step::pack:
            return pack(context, task);
        case Step::index:
            return index(context, task);
        case Step::push:
            return push(context, task);
        case Step::attach:
            return attach(context, task);
        case Step::sign:
            return sign(context, task);
        case Step::verify:
            return verify(context, task);
        case Step::diff:
            return diff(context, task);
        case Step::why:
            return why(context, task);
        case Step::keygen:
            return keygen(context, task);
        case Step::deploy:
            return deploy(context, task);
        case Step::remove:
            return remove(context, task);
    }
    throw Error("task " + task.name + " has no step");
}

}  // namespace dmc::steps
