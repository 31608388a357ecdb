// The diff activity: what changed between two images of a template, arch by arch,
// for review before a push. OLD and NEW are each an OCI layout (a directory with
// index.json), an image directory holding the template's layout (images/ of two
// builds), or a tag or digest of the template's repository at -H. One result line
// per package and file added (+), removed (-) or changed (~), after a summary line
// per arch.
#include "image/diff.hpp"

#include <nlohmann/json.hpp>

#include "image/layout_reader.hpp"
#include "image/oci.hpp"
#include "log/log.hpp"
#include "registry/pull.hpp"
#include "steps/steps.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::steps {
namespace {

constexpr std::uint64_t max_layer = std::uint64_t{8} << 30;

// One side of the comparison: its documents and blobs, wherever they are.
class Source {
  public:
    Source(const Context& context, const std::string& template_name, const std::string& where)
        : label_(where) {
        const fs::path dir = where;
        std::error_code ec;
        if (fs::is_regular_file(dir / "index.json", ec)) {
            layout_ = dir;
        } else if (fs::is_regular_file(child_path(dir, template_name) / "index.json", ec)) {
            layout_ = child_path(dir, template_name);
        } else if (fs::exists(dir, ec)) {
            throw Error(where + " is neither an OCI layout nor an image directory with " +
                        template_name + "/index.json; give one, or a tag at -H");
        } else if (context.settings.registry.empty()) {
            throw Error(where +
                        " is no directory; for a tag or digest in the registry give -H REGISTRY");
        } else {
            reader_.emplace(push_options(context.settings), template_name);
            label_ = reader_->where() + (where.starts_with("sha256:") ? "@" : ":") + where;
        }
        reference_ = layout_.empty() ? where : context.settings.tag;
    }

    const std::string& label() const { return label_; }

    // The manifest of each arch the image has.
    std::map<std::string, json> manifests() {
        const auto [media_type, bytes] = top();
        std::map<std::string, json> out;
        const json doc = parse(bytes, "its " + reference_);
        if (!image::is_index_media_type(media_type)) {
            out[doc_arch(doc)] = doc;
            return out;
        }
        for (const auto& m : image::index_entries(bytes))
            out[image::architecture_of(m)] = parse(document(m.digest), m.digest);
        return out;
    }

    std::string blob(const std::string& digest) {
        if (reader_) return reader_->blob(digest, max_layer);
        return read_file(layout_ / "blobs" / "sha256" / digest.substr(digest.find(':') + 1));
    }

  private:
    std::pair<std::string, std::string> top() {
        if (reader_) {
            const auto m = reader_->manifest(reference_);
            if (!m) throw Error("there is no " + label_ + "; push it first, or name another tag");
            return {m->media_type, m->bytes};
        }
        const auto d = image::find_ref(layout_, reference_);
        return {d.media_type, image::read_document(layout_, d.digest)};
    }
    std::string document(const std::string& digest) {
        if (!reader_) return image::read_document(layout_, digest);
        const auto m = reader_->manifest(digest);
        if (!m) throw Error(label_ + " names " + digest + ", which the registry does not have");
        return m->bytes;
    }
    json parse(const std::string& bytes, const std::string& what) const {
        json doc = json::parse(bytes, nullptr, false);
        if (!doc.is_object()) throw Error(label_ + ": " + what + " is not a JSON document");
        return doc;
    }
    // An image manifest without an index: its arch is in its config.
    std::string doc_arch(const json& manifest) {
        const std::string digest = manifest.value("config", json::object()).value("digest", "");
        const json config = json::parse(blob(digest), nullptr, false);
        return config.is_object() ? config.value("architecture", "?") : "?";
    }

    std::string label_, reference_;
    fs::path layout_;
    std::optional<registry::Reader> reader_;
};

image::Listing listing(Source& source, const json& manifest, const std::string& arch) {
    const auto layers = manifest.value("layers", json::array());
    if (layers.size() != 1 || !layers[0].is_object())
        throw Error(source.label() + " (" + arch + ") has " + std::to_string(layers.size()) +
                    " layers; dmc compares images of one layer");
    try {
        return image::list_layer(source.blob(layers[0].value("digest", "")));
    } catch (const Error& e) {
        throw Error(source.label() + " (" + arch + "): " + e.what());
    }
}

}  // namespace

void diff(Context& context, const tasks::Task& task) {
    const auto& args = context.arguments;
    Source before(context, task.template_name, args.at(0));
    Source after(context, task.template_name, args.at(1));
    auto old_images = before.manifests();
    auto new_images = after.manifests();
    std::vector<std::string> archs;
    for (const auto& arch : context.settings.archs)
        if (old_images.count(arch) && new_images.count(arch)) archs.push_back(arch);
    if (archs.empty()) {
        std::string both;
        for (const auto& [arch, _] : old_images)
            if (new_images.count(arch)) both += (both.empty() ? "" : " ") + arch;
        throw Error(task.template_name + ": " + before.label() + " and " + after.label() +
                    " have no arch of " + config::join(context.settings.archs, " ") + " in common" +
                    (both.empty() ? "" : "; they have " + both + " (give -A)"));
    }
    for (const auto& arch : archs) {
        const auto a = listing(before, old_images[arch], arch);
        const auto b = listing(after, new_images[arch], arch);
        const auto changes = image::compare(a, b);
        std::map<std::pair<std::string, char>, int> counts;
        for (const auto& c : changes) ++counts[{c.what, c.change}];
        auto count = [&counts](const std::string& what) {
            return std::to_string(counts[{what, '+'}]) + " added, " +
                   std::to_string(counts[{what, '-'}]) + " removed, " +
                   std::to_string(counts[{what, '~'}]) + " changed";
        };
        const auto delta = static_cast<long long>(b.bytes) - static_cast<long long>(a.bytes);
        log::result(task.template_name + " " + arch + ": packages " + count("package") +
                    "; files " + count("file") + "; " + image::human_size(a.bytes) + " -> " +
                    image::human_size(b.bytes) + " (" + (delta < 0 ? "-" : "+") +
                    image::human_size(static_cast<std::uint64_t>(delta < 0 ? -delta : delta)) +
                    ")");
        for (const auto& c : changes) {
            std::string line = std::string(1, c.change) + " " + c.what + " " + c.name;
            if (c.change == '~')
                line += " " + c.before + " -> " + c.after;
            else
                line += " " + (c.change == '+' ? c.after : c.before);
            log::result(line);
        }
    }
}

}  // namespace dmc::steps
