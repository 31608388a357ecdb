// The index step: the image index over the archs, and the layout's tags.
#include <nlohmann/json.hpp>

#include "image/layout_reader.hpp"
#include "image/oci.hpp"
#include "log/log.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::steps {

void index(Context& context, const tasks::Task& task) {
    const auto& settings = context.settings;
    const fs::path layout = child_path(settings.image_dir, task.template_name);
    // No image of it changed and the index written before lists exactly them: it stays.
    std::vector<std::string> digests;
    for (const auto& arch : settings.archs) {
        if (!image_current(context, task.template_name, arch)) break;
        digests.push_back(built_image(context, task.template_name, arch)->digest);
    }
    if (digests.size() == settings.archs.size()) {
        try {
            const auto index = image::find_ref(layout, settings.tag);
            const auto document = json::parse(image::read_document(layout, index.digest));
            std::vector<std::string> listed;
            for (const auto& m : document.at("manifests"))
                listed.push_back(m.at("digest").get<std::string>());
            if (listed == digests) {
                log::notice(task.template_name + " index " + index.digest + ", unchanged");
                log::result(task.template_name + " " + layout.string() + ":" + settings.tag + " " +
                            index.digest);
                return;
            }
        } catch (const std::exception&) {
            // not there, or not this one: written below
        }
    }
    std::vector<image::Descriptor> manifests;
    std::map<std::string, std::string> annotations;  // the first arch's: the same for all
    for (const auto& arch : settings.archs) {
        const fs::path file = context.work_dir(task.template_name, arch) / "pack.json";
        std::error_code ec;
        if (!fs::exists(file, ec))
            throw Error("no " + task.template_name + " image for " + arch + " yet; run " +
                        task.template_name + "." + arch + ".pack first (see -l)");
        const json packed = json::parse(read_file(file));
        manifests.push_back(image::descriptor_from_json(packed.at("manifest")));
        if (annotations.empty() && packed.contains("annotations"))
            packed.at("annotations").get_to(annotations);
    }
    auto index = image::write_image_index(layout, manifests, annotations);
    // The tag names the index over every arch; "<tag>-<arch>" names each image, for
    // clients that cannot pick a platform out of an index (umoci).
    std::map<std::string, image::Descriptor> refs{{settings.tag, index}};
    for (std::size_t i = 0; i < manifests.size(); ++i)
        refs[settings.tag + "-" + settings.archs[i]] = manifests[i];
    image::write_layout_index(layout, refs);
    log::result(task.template_name + " " + layout.string() + ":" + settings.tag + " " +
                index.digest);
}

}  // namespace dmc::steps
