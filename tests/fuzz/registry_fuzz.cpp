// What a registry sends and what dmc reads back to push: WWW-Authenticate headers,
// token answers, error bodies, and OCI manifests and indexes in a layout. The
// input is two parts separated by a NUL: an index.json, in which "@D@" stands for
// the digest of the second part, and that part as a blob of the layout, so that
// the reader walks into documents the fuzzer wrote.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz.hpp"
#include "image/layout_reader.hpp"
#include "image/oci.hpp"
#include "registry/auth.hpp"
#include "registry/client.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path& layout_dir() {
    static const fs::path dir = [] {
        const fs::path d =
            fs::temp_directory_path() / ("dmc-registry-fuzz-" + std::to_string(getpid()));
        fs::remove_all(d);
        return d;
    }();
    return dir;
}

void read_layout(std::string index, std::string_view blob) {
    using namespace dmc;
    const std::string digest = "sha256:" + sha256_hex(blob);
    for (auto at = index.find("@D@"); at != std::string::npos; at = index.find("@D@", at))
        index.replace(at, 3, digest);
    const fs::path layout = layout_dir();
    fs::remove_all(layout);
    fs::create_directories(layout / "blobs" / "sha256");
    write_file_atomic(layout / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    write_file_atomic(layout / "index.json", index);
    write_file_atomic(layout / "blobs" / "sha256" / digest.substr(7), blob);
    fuzz::accepted([&] {
        const auto content = image::read_content(layout, "latest");
        for (const auto& d : content.documents) fuzz::touch(d.digest + d.media_type);
        for (const auto& b : content.blobs) fuzz::touch(b.digest);
    });
    fuzz::accepted([&] { fuzz::touch(image::config_label(layout, "latest", "version")); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using namespace dmc;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto parts = fuzz::split_input(input);
    const std::string_view first = parts.first, second = parts.second;  // Clang 14 cannot
                                                                        // capture bindings
    for (const auto& c : registry::parse_challenges(first)) {
        fuzz::check(!c.scheme.empty(), "a challenge without a scheme");
        for (const auto& [name, value] : c.params) fuzz::touch(name + value);
    }
    fuzz::accepted([&] { fuzz::touch(registry::parse_token_response(first).token); });
    registry::Reply reply;
    reply.status = 400;
    reply.body = std::string(first);
    fuzz::touch(registry::describe(reply));
    fuzz::accepted([&] {
        const auto doc = nlohmann::json::parse(first, nullptr, false);
        if (!doc.is_discarded()) fuzz::touch(image::descriptor_from_json(doc).digest);
    });
    read_layout(std::string(first), second);
    return 0;
}
