#include "tasks/tasks.hpp"

#include <cstdio>

#include "log/log.hpp"
#include "util/error.hpp"

namespace dmc::tasks {

const std::vector<Activity>& activities() {
    static const std::vector<Activity> list = {
        {"update", "Refresh the indexes, say which packages changed and rewrite the lock"},
        {"setup", "Set up the build environment: directories, mirrors, signed indexes"},
        {"create", "Create the container images"},
        {"load", "Push built images to the registry"},
        {"deploy", "Deploy the pushed images to Kubernetes (or print the manifests)"},
        {"resolve", "Print the package closure of the given packages"},
        {"keygen", "Write a signing key pair: --key dmc.key gives dmc.key and dmc.pub"},
        {"verify", "Check the signature, provenance and SBOM of pushed images (--key PUB)"},
        {"diff", "Show the packages and files two images of a template differ in (OLD NEW)"},
        {"why", "Say why a package or a path is in a template's image (WHAT)"},
    };
    return list;
}

bool is_activity(const std::string& name) {
    for (const auto& a : activities())
        if (a.name == name) return true;
    return false;
}

std::vector<Task> plan(const PlanRequest& r) {
    std::vector<Task> out;
    auto add = [&](std::string name, std::string description, std::string tmpl, std::string arch,
                   Step step) {
        out.push_back(
            {std::move(name), std::move(description), std::move(tmpl), std::move(arch), step});
    };
    if (r.activity == "setup" || r.activity == "update") {
        const bool setup = r.activity == "setup";
        if (setup)
            add("setup.dirs", "Create the cache, rootfs, build and image directories", "", "",
                Step::dirs);
        for (const auto& arch : r.archs)
            add(r.activity + "." + arch,
                (setup ? "Fetch and verify the " : "Refresh the ") + r.dist + " indexes for " +
                    arch,
                "", arch, setup ? Step::setup : Step::update);
        if (r.templates.empty()) return out;
        for (const auto& t : r.templates)
            for (const auto& arch : r.archs)
                add(t + "." + arch + ".prepare", "Declare the packages of " + t + " for " + arch, t,
                    arch, Step::prepare);
        if (setup) {
            add("setup.sources", "Fetch and verify the sources of the builds from source", "", "",
                Step::sources);
            add("setup.buildenv", "Make the build environments of the builds from source", "", "",
                Step::buildenv);
            return out;
        }
        add("update.lock", "Resolve every image again, report the changes, rewrite the lock", "",
            "", Step::lock);
        add("update.buildenv",
            "Make the build environments of the builds from source again where the indexes "
            "changed",
            "", "", Step::update_buildenv);
        return out;
    }
    if (r.activity == "keygen") {
        add("keygen", "Write a new ECDSA P-256 signing key pair", "", "", Step::keygen);
        return out;
    }
    if (r.activity == "verify") {
        for (const auto& t : r.templates)
            add(t + ".verify", "Check the signature and attestations of " + t + " in the registry",
                t, "", Step::verify);
        return out;
    }
    if (r.activity == "diff") {
        for (const auto& t : r.templates)
            add(t + ".diff", "Compare two images of " + t, t, "", Step::diff);
        return out;
    }
    if (r.activity == "why") {
        for (const auto& t : r.templates)
            for (const auto& arch : r.archs)
                add(t + "." + arch + ".why", "Say why it is in the " + t + " image for " + arch, t,
                    arch, Step::why);
        return out;
    }
    if (r.activity == "resolve") {
        for (const auto& arch : r.archs)
            add("resolve." + arch, "Resolve the package closure for " + arch, "", arch,
                Step::resolve);
        return out;
    }
    for (const auto& t : r.templates) {
        if (r.remove) {
            add(t + ".delete", "Remove " + t + " from kubernetes", t, "", Step::remove);
            continue;
        }
        if (r.activity == "create") {
            for (const auto& arch : r.archs) {
                const std::string base = t + "." + arch + ".";
                add(base + "prepare", "Declare the packages of " + t + " for " + arch, t, arch,
                    Step::prepare);
                add(base + "rootfs",
                    "Resolve, fetch and unpack the packages of " + t + " for " + arch, t, arch,
                    Step::rootfs);
                add(base + "collect",
                    "Collect the files of " + t + " and their libraries for " + arch, t, arch,
                    Step::collect);
                add(base + "configure", "Configure the " + t + " image for " + arch, t, arch,
                    Step::configure);
            }
            // The packs last, one after the other: each compresses the next one's layer
            // on another core while it writes its own (steps/pack).
            for (const auto& arch : r.archs)
                add(t + "." + arch + ".pack", "Pack the " + t + " layer and image for " + arch, t,
                    arch, Step::pack);
            add(t + ".index", "Write the " + t + " image index and archives", t, "", Step::index);
        }
        if (r.activity == "load" || (r.activity == "create" && r.push)) {
            add(t + ".push", "Push " + t + " to the registry", t, "", Step::push);
            add(t + ".attach", "Attach the SBOMs of " + t + " to it as OCI referrers", t, "",
                Step::attach);
        }
        if ((r.activity == "load" || (r.activity == "create" && r.push)) && r.sign)
            add(t + ".sign", "Sign " + t + " and attach its provenance and SBOM in the registry", t,
                "", Step::sign);
        if (r.activity == "deploy" || (r.activity == "create" && r.push && r.deploy))
            add(t + ".deploy", "Deploy " + t + " to kubernetes", t, "", Step::deploy);
    }
    return out;
}

std::size_t find_task(const std::vector<Task>& tasks, const std::string& ref) {
    if (!ref.empty() && ref.find_first_not_of("0123456789") == std::string::npos) {
        std::size_t n = 0;
        try {
            n = std::stoul(ref);
        } catch (const std::exception&) {
        }
        if (n >= 1 && n <= tasks.size()) return n - 1;
        throw UsageError("there is no task " + ref + "; tasks are numbered 1 to " +
                         std::to_string(tasks.size()) + " (see -l)");
    }
    for (std::size_t i = 0; i < tasks.size(); ++i)
        if (tasks[i].name == ref) return i;
    throw UsageError("there is no task named '" + ref + "'; list them with -l");
}

std::vector<std::size_t> task_range(const std::vector<Task>& tasks,
                                    const std::optional<std::string>& begin,
                                    const std::optional<std::string>& end,
                                    const std::optional<std::string>& only) {
    if (only) return {find_task(tasks, *only)};
    std::size_t first = begin ? find_task(tasks, *begin) : 0;
    std::size_t last = end ? find_task(tasks, *end) : (tasks.empty() ? 0 : tasks.size() - 1);
    if (tasks.empty()) return {};
    if (first > last)
        throw UsageError("task " + std::to_string(first + 1) + " (-b) comes after task " +
                         std::to_string(last + 1) + " (-e)");
    std::vector<std::size_t> out;
    for (std::size_t i = first; i <= last; ++i) out.push_back(i);
    return out;
}

void print(std::ostream& out, const std::vector<Task>& tasks) {
    char line[512];
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        std::snprintf(line, sizeof line, "%3zu %-32s : %s\n", i + 1, tasks[i].name.c_str(),
                      tasks[i].description.c_str());
        out << line;
    }
}

std::optional<std::size_t> run(const std::vector<Task>& tasks,
                               const std::vector<std::size_t>& range, const Executor& execute) {
    auto& logger = log::Logger::instance();
    for (std::size_t index : range) {
        const Task& task = tasks.at(index);
        logger.task_begin(static_cast<int>(index + 1), task.name, task.description);
        try {
            execute(task);
        } catch (const std::exception& e) {
            logger.task_end(false, e.what());
            return index;
        }
        logger.task_end(true);
    }
    return std::nullopt;
}

}  // namespace dmc::tasks
