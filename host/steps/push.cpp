// The push step: the template's OCI layout in the image directory goes to the
// registry given with -H (DMC_HOST, `registry`), tagged with the tag and the
// main package's version; the pushed references are printed on stdout.
#include "registry/push.hpp"

#include <set>

#include "image/layout_reader.hpp"
#include "log/log.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"

namespace fs = std::filesystem;

namespace dmc::steps {

registry::PushOptions push_options(const config::Settings& settings) {
    registry::PushOptions options;
    options.registry = settings.registry;
    options.insecure = settings.insecure_registries;
    options.ca_bundle = settings.registry_ca;
    options.chunk_size = static_cast<std::uint64_t>(settings.registry_chunk_size);
    options.parallel = settings.jobs;
    options.retries = settings.registry_retries;
    options.credentials.username = settings.registry_user;
    options.credentials.password = settings.registry_password;
    options.credentials.password_file = settings.registry_password_file;
    options.mount_cache = settings.cache_dir / "registry-blobs.json";
    return options;
}

PushedImage pushed_image(const Context& context, const std::string& tmpl) {
    const auto& s = context.settings;
    const fs::path layout = child_path(s.image_dir, tmpl);
    const auto index = image::find_ref(layout, s.tag);
    const fs::path record_file = pushed_record(s, tmpl);
    std::string image;
    try {
        image = nlohmann::json::parse(read_file(record_file)).at("image").get<std::string>();
    } catch (const std::exception&) {
        throw Error("no record of a push of " + tmpl + " in " + record_file.string() +
                    "; push it first: dmc -t " + tmpl + " -a load -H " + s.registry);
    }
    const auto at = image.find('@');
    if (at == std::string::npos || image.substr(at + 1) != index.digest)
        throw Error(tmpl + " in " + layout.string() + " is not the image pushed last (" + image +
                    "); push it first: dmc -t " + tmpl + " -a load -H " + s.registry);
    return {image.substr(0, at), index, record_file.parent_path()};
}

std::vector<PushedPart> pushed_parts(const Context& context, const std::string& tmpl,
                                     const PushedImage& pushed) {
    const fs::path layout = child_path(context.settings.image_dir, tmpl);
    std::set<std::string> listed;
    for (const auto& m : image::index_entries(image::read_document(layout, pushed.index.digest)))
        listed.insert(m.digest);
    std::vector<PushedPart> parts;
    for (const auto& arch : context.settings.archs) {
        const auto built = built_image(context, tmpl, arch);
        if (!built || !listed.count(built->digest)) continue;
        parts.push_back({arch, *built, image_outputs(context, tmpl, arch)});
    }
    return parts;
}

void push(Context& context, const tasks::Task& task) {
    const auto& settings = context.settings;
    if (settings.registry.empty())
        throw UsageError("no registry to push " + task.template_name +
                         " to; give one with -H host[:port][/namespace] or DMC_HOST");
    const fs::path layout = child_path(settings.image_dir, task.template_name);
    std::error_code ec;
    if (!fs::is_regular_file(layout / "index.json", ec))
        throw Error("no " + task.template_name + " image in " + layout.string() +
                    "; build it first with dmc -t " + task.template_name);

    const auto options = push_options(settings);
    const auto tags = registry::default_tags(layout, settings.tag, settings.tag);
    const auto refs =
        registry::push_layout(options, layout, settings.tag, task.template_name, tags);
    for (const auto& ref : refs) log::result(ref);
    // deploy names the image by digest: "host/repo:tag@sha256:..." without the tag.
    if (!refs.empty()) {
        std::string image = refs.front();
        const auto at = image.find('@');
        const auto colon = image.rfind(':', at);
        if (at != std::string::npos && colon != std::string::npos && colon > image.rfind('/', at))
            image.erase(colon, at - colon);
        const fs::path record = pushed_record(settings, task.template_name);
        fs::create_directories(record.parent_path());
        write_file_atomic(record,
                          nlohmann::json{{"registry", settings.registry}, {"image", image}}.dump());
    }
}

}  // namespace dmc::steps
