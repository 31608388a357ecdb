#include "image/layout_reader.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::image {
namespace {

constexpr int kMaxDepth = 4;  // an index of indexes of ... manifests

json parse(const fs::path& layout, const std::string& what, const std::string& bytes) {
    try {
        return json::parse(bytes);
    } catch (const json::exception&) {
        throw Error(what + " in " + layout.string() + " is not valid JSON; build the image again");
    }
}

std::string media_type_of(const Descriptor& d, const json& doc) {
    return d.media_type.empty() ? doc.value("mediaType", "") : d.media_type;
}

void walk(const fs::path& layout, const Descriptor& desc, LayoutContent& content,
          std::set<std::string>& seen, int depth) {
    if (!seen.insert(desc.digest).second) return;
    if (depth > kMaxDepth) throw Error("the image index in " + layout.string() + " nests too deep");
    std::string bytes = read_document(layout, desc.digest);
    const json doc = parse(layout, desc.digest, bytes);
    const std::string mt = media_type_of(desc, doc);
    auto add_blob = [&](const json& d) {
        const Descriptor blob = descriptor_from_json(d);
        if (!seen.insert(blob.digest).second) return;
        LayoutBlob b{blob.digest, blob.size, blob_path(layout, blob.digest)};
        std::error_code ec;
        const auto size = fs::file_size(b.path, ec);
        if (ec || size != b.size)
            throw Error("the layout " + layout.string() + " lacks " + b.digest + " (or it is " +
                        "truncated); build the image again");
        content.blobs.push_back(std::move(b));
    };
    if (is_index_media_type(mt)) {
        for (const auto& m : doc.at("manifests"))
            walk(layout, descriptor_from_json(m), content, seen, depth + 1);
    } else if (is_manifest_media_type(mt)) {
        add_blob(doc.at("config"));
        for (const auto& l : doc.value("layers", json::array())) add_blob(l);
    } else {
        throw Error("cannot push " + desc.digest + " of media type '" + mt + "' from " +
                    layout.string());
    }
    content.documents.push_back({desc.digest, mt, std::move(bytes)});
}

// Runs `read` on the documents of a layout: a field of the wrong type or missing
// (nlohmann's exceptions) is a damaged layout like any other.
template <class F>
auto checked(const fs::path& layout, F&& read) {
    try {
        return read();
    } catch (const json::exception& e) {
        throw Error("the layout " + layout.string() + " holds a malformed document (" + e.what() +
                    "); build the image again");
    }
}

Descriptor find_ref_in(const fs::path& layout, const std::string& ref) {
    const fs::path index_file = layout / "index.json";
    std::error_code ec;
    if (!fs::is_regular_file(index_file, ec))
        throw Error("no image layout at " + layout.string() +
                    " (no index.json); build the image first");
    json index;
    try {
        index = json::parse(read_file(index_file));
    } catch (const json::exception&) {
        throw Error(index_file.string() + " is not valid JSON; build the image again");
    }
    std::string refs;
    for (const auto& m : index.value("manifests", json::array())) {
        const auto annotations = m.value("annotations", json::object());
        const std::string name = annotations.value(std::string(ref_name_annotation), "");
        if (name == ref) return descriptor_from_json(m);
        if (!name.empty()) refs += (refs.empty() ? "" : ", ") + name;
    }
    throw Error("the layout " + layout.string() + " has no image named '" + ref +
                "' (it has: " + (refs.empty() ? "none" : refs) + "); build it first");
}

std::string config_label_in(const fs::path& layout, const std::string& ref,
                            const std::string& label) {
    Descriptor desc = find_ref(layout, ref);
    for (int depth = 0; depth <= kMaxDepth; ++depth) {
        const json doc = parse(layout, desc.digest, read_document(layout, desc.digest));
        const std::string mt = media_type_of(desc, doc);
        if (is_index_media_type(mt) && !doc.value("manifests", json::array()).empty()) {
            desc = descriptor_from_json(doc["manifests"][0]);
            continue;
        }
        if (!is_manifest_media_type(mt)) return "";
        const Descriptor config = descriptor_from_json(doc.at("config"));
        const json c = parse(layout, config.digest, read_document(layout, config.digest));
        return c.value("config", json::object()).value("Labels", json::object()).value(label, "");
    }
    return "";
}

}  // namespace

Descriptor find_ref(const fs::path& layout, const std::string& ref) {
    return checked(layout, [&] { return find_ref_in(layout, ref); });
}

std::string read_document(const fs::path& layout, const std::string& digest) {
    const fs::path file = blob_path(layout, digest);
    std::error_code ec;
    if (!fs::is_regular_file(file, ec))
        throw Error("the layout " + layout.string() + " lacks " + digest +
                    "; build the image again");
    std::string bytes = read_file(file);
    if ("sha256:" + sha256_hex(bytes) != digest)
        throw Error("the layout " + layout.string() + " holds a corrupt " + digest +
                    "; build the image again");
    return bytes;
}

LayoutContent read_content(const fs::path& layout, const std::string& ref) {
    LayoutContent content;
    std::set<std::string> seen;
    checked(layout, [&] { walk(layout, find_ref(layout, ref), content, seen, 0); });
    return content;
}

std::string config_label(const fs::path& layout, const std::string& ref, const std::string& label) {
    return checked(layout, [&] { return config_label_in(layout, ref, label); });
}

}  // namespace dmc::image
