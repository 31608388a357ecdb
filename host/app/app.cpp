#include "app/app.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "app/templates.hpp"
#include "arch/arch.hpp"
#include "cli/cli.hpp"
#include "kube/kubeconfig.hpp"
#include "log/log.hpp"
#include "plugin/catalog.hpp"
#include "registry/reference.hpp"
#include "sign/key.hpp"
#include "steps/steps.hpp"
#include "tasks/tasks.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"
#include "util/text.hpp"

namespace dmc::app {
namespace {

std::string command_line(int argc, const char* const* argv) {
    std::string out;
    for (int i = 0; i < argc; ++i) {
        if (i) out += ' ';
        out += argv[i];
    }
    return out;
}

std::string help(const plugin::Catalog& catalog) {
    std::vector<cli::HelpEntry> templates, groups, activities;
    auto sorted = catalog.templates();
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& t : sorted) templates.push_back({t.name, t.description});
    for (const auto& g : groups_of(catalog.templates())) groups.push_back({g.name, g.description});
    for (const auto& a : tasks::activities()) activities.push_back({a.name, a.description});
    return cli::help_text(templates, groups, activities);
}

// The config file's templates.<name>.<option> keys against what each template
// declares: a misspelt option stops dmc instead of being ignored.
void check_template_options(const config::Settings& settings, const plugin::Catalog& catalog) {
    for (const auto& [name, options] : settings.template_options) {
        const plugin::Template* t = catalog.find(name);
        if (t == nullptr) {
            log::warning("the config file has options for the template '" + name +
                         "', which is not loaded; they are ignored");
            continue;
        }
        if (!t->options) continue;
        for (const auto& [key, value] : options) {
            if (t->option(key)) continue;
            std::vector<std::string> valid;
            for (const auto& o : *t->options) valid.push_back(o.name);
            const auto origin = settings.template_option_origins.find(name + "." + key);
            throw Error((origin != settings.template_option_origins.end() ? origin->second + ": "
                                                                          : std::string()) +
                        "the template " + name + " has no option '" + key + "' (its options: " +
                        (valid.empty() ? std::string("none") : config::join(valid, ", ")) + ")");
        }
    }
}

// Every directory a run writes into is checked before the first task, so that a
// bad setting is named as such and not met as a raw error halfway through.
void check_directories(const config::Settings& settings, const std::string& activity) {
    for (const auto& [setting, dir] : config::directories(settings)) {
        if (setting.key == "imagedir" && activity != "create" && activity != "load") continue;
        if (auto why = unusable_directory(dir))
            throw Error(setting.key + " " + dir.string() + " cannot be used: " + *why + "; set " +
                        config::setting_name(setting) + " to a directory dmc can write");
    }
}

// A filesystem error met anyway (a directory removed or filled while dmc runs),
// named after the setting whose directory it happened in.
Error filesystem_failure(const std::filesystem::filesystem_error& e,
                         const config::Settings& settings) {
    const std::string path = e.path1().string();
    std::string what = e.code().message();
    const std::string text = e.what();
    if (auto colon = text.find(": "), bracket = text.rfind(" [");
        colon != std::string::npos && bracket != std::string::npos && bracket > colon)
        what = text.substr(colon + 2, bracket - colon - 2);
    // The innermost setting's directory holding the path, compared component by
    // component (rootfsdir may sit inside cachedir; /x/dmc does not hold /x/dmc-old).
    const config::DirectorySetting* owner = nullptr;
    std::size_t owner_depth = 0;
    const auto target = e.path1().lexically_normal();
    const auto dirs = config::directories(settings);
    for (const auto& d : dirs) {
        const auto base = d.dir.lexically_normal();
        std::size_t depth = 0;
        auto t = target.begin();
        bool inside = true;
        for (auto b = base.begin(); b != base.end(); ++b, ++t, ++depth) {
            if (b->empty()) continue;  // a trailing separator
            if (t == target.end() || *t != *b) {
                inside = false;
                break;
            }
        }
        if (inside && depth > owner_depth) {
            owner = &d;
            owner_depth = depth;
        }
    }
    const bool full = e.code() == std::errc::no_space_on_device ||
                      e.code() == std::error_code(EDQUOT, std::generic_category());
    if (full && owner != nullptr)
        return Error(owner->setting.key + " " + owner->dir.string() + " is full (" + what +
                     ", writing " + path + "); free some space there, or set " +
                     config::setting_name(owner->setting) + " to a directory with room");
    if (!path.empty() && owner != nullptr)
        return Error(path + ": " + what + "; it is under " + owner->setting.key + " " +
                     owner->dir.string() + ": check " + config::setting_name(owner->setting) +
                     " and the space and rights there");
    return Error(path.empty() ? what : path + ": " + what);
}

int run_with(const cli::Options& options, const config::Settings& settings, int argc,
             const char* const* argv);

int run(int argc, const char* const* argv) {
    const cli::Options options = cli::parse(argc, argv);
    if (options.version) {
        std::printf("dmc %s (plugin ABI %u)\n", DMC_VERSION, DMC_PLUGIN_ABI_VERSION);
        return 0;
    }
    const config::Settings settings = cli::effective_settings(options);
    try {
        return run_with(options, settings, argc, argv);
    } catch (const std::filesystem::filesystem_error& e) {
        throw filesystem_failure(e, settings);
    }
}

int run_with(const cli::Options& options, const config::Settings& settings, int argc,
             const char* const* argv) {
    auto& logger = log::Logger::instance();
    logger.start(settings.log, command_line(argc, argv), settings.describe());

    plugin::Catalog catalog;
    catalog.load_dirs(settings.plugin_dirs);
    catalog.load_dirs(plugin::builtin_dirs(), plugin::Catalog::Missing::ignore);

    check_template_options(settings, catalog);

    if (options.help) {
        std::cout << help(catalog);
        return 0;
    }
    const std::string activity = options.activity.value_or("create");
    if (!tasks::is_activity(activity)) {
        std::string valid;
        for (const auto& a : tasks::activities()) valid += (valid.empty() ? "" : ", ") + a.name;
        throw UsageError("unknown activity '" + activity + "'; valid activities: " + valid);
    }
    arch::check_archs(settings.archs);
    // The registry and its namespace become repository names: checked before any
    // task, and failing the run as the push would have (exit 1).
    if (!settings.registry.empty()) {
        try {
            registry::parse_registry(settings.registry);
        } catch (const UsageError& e) {
            throw Error(e.what());
        }
    }
    if (activity == "resolve" && options.arguments.empty())
        throw UsageError("resolve needs package names: dmc -a resolve [-D DIST] [-A ARCH] PKG...");
    if (activity == "diff" && (options.arguments.size() != 2 || !options.templates))
        throw UsageError(
            "diff needs -t TEMPLATE and two images: dmc -a diff -t nginx OLD NEW (each an OCI "
            "layout, an image directory, or a tag at -H)");
    if (activity == "why" && (options.arguments.size() != 1 || !options.templates))
        throw UsageError(
            "why needs -t TEMPLATE and one package or path: dmc -a why -t nginx libpcre2-8-0");
    if (activity != "resolve" && activity != "diff" && activity != "why" &&
        !options.arguments.empty())
        throw UsageError("unexpected argument '" + options.arguments.front() +
                         "'; only resolve, diff and why take arguments");

    tasks::PlanRequest request;
    request.activity = activity;
    request.archs = settings.archs;
    request.dist = settings.dist;
    request.remove = options.remove;
    request.push = !settings.registry.empty();
    request.sign = !settings.sign_key.empty();
    // A key that cannot sign fails the run before anything is built or pushed.
    if (request.sign && (activity == "create" || activity == "load") && request.push)
        (void)sign::PrivateKey::load(settings.sign_key);
    if (activity == "keygen" && settings.key.empty())
        throw UsageError(
            "keygen needs --key FILE: the private key goes there, the public one "
            "beside it (dmc.key, dmc.pub)");
    if (activity == "verify" && settings.key.empty())
        throw UsageError("verify needs --key PUB: the public key the images were signed for");
    if (activity == "verify" && settings.registry.empty())
        throw UsageError("verify needs -H REGISTRY: the registry the images were pushed to");
    if (options.json && activity != "update")
        throw UsageError("--json goes with the activity update");
    if (options.print && activity != "create" && activity != "deploy")
        throw UsageError("--print goes with the activities deploy and create");
    if (options.print && options.remove)
        throw UsageError("--print writes manifests; it cannot be combined with -X");
    if (options.print && activity == "create" && settings.registry.empty())
        throw UsageError("create --print needs -H REGISTRY: the manifests name the pushed image");
    // create deploys at the end, as the original dmc did, when there is a cluster.
    request.deploy = options.print.has_value() ||
                     (settings.deploy && kube::cluster_configured(kube::request_from_environment(
                                             settings.kubeconfig, settings.kube_context)));
    // setup prepares the builds from source of the templates it is given, and only those.
    if (activity == "create" || activity == "load" || activity == "update" ||
        activity == "deploy" || activity == "verify" || activity == "diff" || activity == "why" ||
        (activity == "setup" && (options.templates || options.groups)))
        request.templates =
            choose_templates(catalog, options.templates.value_or(std::vector<std::string>{}),
                             options.groups.value_or(std::vector<std::string>{}));
    if (activity == "load" && !options.templates && !options.groups) {
        // Without a selection, load pushes what has been built.
        std::vector<std::string> built;
        for (const auto& t : request.templates) {
            std::error_code ec;
            if (std::filesystem::is_regular_file(child_path(settings.image_dir, t) / "index.json",
                                                 ec))
                built.push_back(t);
        }
        if (built.empty())
            throw Error("no built image in " + settings.image_dir.string() +
                        "; build one first, e.g. dmc -t nginx");
        request.templates = built;
    }
    if (activity == "deploy" && !options.templates && !options.groups && !options.remove) {
        // Without a selection, deploy takes what has been pushed, as load takes what is built.
        std::vector<std::string> pushed;
        for (const auto& t : request.templates) {
            std::error_code ec;
            if (std::filesystem::exists(steps::pushed_record(settings, t), ec)) pushed.push_back(t);
        }
        if (pushed.empty())
            throw Error("nothing has been pushed yet; push images first: dmc -t nginx -H REGISTRY");
        request.templates = pushed;
    }
    const auto task_list = tasks::plan(request);
    if (options.list) {
        tasks::print(std::cout, task_list);
        return 0;
    }
    const auto range = tasks::task_range(task_list, options.begin, options.end, options.only);
    check_directories(settings, activity);

    // One run at a time on a cache: a second one waits, or with --no-wait refuses.
    const auto lock_path = settings.cache_dir / "run.lock";
    auto run_lock = std::make_unique<FileLock>(lock_path, FileLock::Wait::no);
    if (!run_lock->held()) {
        if (options.no_wait)
            throw Error("another dmc is running on the cache " + settings.cache_dir.string() +
                        "; wait until it ends, or leave out --no-wait to wait for it");
        log::notice("another dmc is running on the cache " + settings.cache_dir.string() +
                    "; waiting until it ends");
        run_lock = std::make_unique<FileLock>(lock_path);
    }
    // What a run that was killed left half-written (temporary names only: the
    // outputs themselves are only ever renamed into place whole). A run marks the
    // cache while it works and clears the mark when it succeeds, so only the run
    // after one that was killed or failed looks for them.
    namespace fs = std::filesystem;
    const fs::path unfinished = settings.cache_dir / "run.unfinished";
    std::error_code ec;
    if (fs::exists(unfinished, ec)) {
        std::size_t stale = 0;
        for (const auto& [dir, depth] : {std::pair{settings.cache_dir, 4},
                                         {settings.rootfs_dir, 4},
                                         {settings.build_dir, 3},
                                         {settings.image_dir, 3}})
            stale += remove_stale_temps(dir, depth, {settings.package_store()});
        if (stale > 0) log::info("removed " + std::to_string(stale) + " files a killed dmc left");
    } else if (const int fd = ::open(unfinished.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
               fd >= 0) {
        ::close(fd);
    }

    steps::Context context(settings, catalog, options.arguments, request.templates);
    context.print_to = options.print.value_or("");
    for (int i = 0; i < argc; ++i) context.command.emplace_back(argv[i]);
    context.json = options.json;
    for (std::size_t i : range) {
        const std::string image = task_list[i].template_name + "/" + task_list[i].arch;
        if (task_list[i].step == tasks::Step::rootfs) context.rootfs_order.push_back(image);
        if (task_list[i].step == tasks::Step::pack) {
            context.layers_to_come.insert(image);
            ++context.packs_to_come;
        }
    }
    auto failed = tasks::run(task_list, range, [&](const tasks::Task& task) {
        try {
            steps::run_step(context, task);
        } catch (const std::filesystem::filesystem_error& e) {
            throw filesystem_failure(e, settings);
        }
    });
    if (failed) {
        throw Error("task " + std::to_string(*failed + 1) + " " + task_list[*failed].name +
                    " failed; fix the cause and resume with -b " + std::to_string(*failed + 1));
    }
    if (auto why = log::Logger::instance().file_failure()) {
        const auto dir = log::Logger::instance().settings().dir.value_or("");
        throw Error("log_dir " + dir.string() + " took no more of this run's log (" + *why +
                    "); the run itself completed; free some space there, or set LOG_dir to " +
                    "a directory with room");
    }
    fs::remove(unfinished, ec);
    return 0;
}

}  // namespace

int main(int argc, const char* const* argv) {
    int status = 0;
    try {
        status = run(argc, argv);
    } catch (const Error& e) {
        log::Logger::instance().write(log::Level::fail, e.what());
        if (!log::shows(log::Logger::instance().settings().console, log::Level::fail))
            std::fprintf(stderr, "dmc: %s\n",
                         cut_for_console(redact_credentials(e.what())).c_str());
        status = e.code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dmc: internal error: %s\n", e.what());
        status = 70;
    }
    log::Logger::instance().finish(status);
    return status;
}

}  // namespace dmc::app
