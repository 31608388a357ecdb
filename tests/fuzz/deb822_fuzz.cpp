// Deb822 text from mirrors: Release and InRelease (the clear-signed layout), Packages
// and Sources stanzas, and the relation fields in them. Every view the reader hands
// out must lie inside the input; every refusal is a dmc::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "apt/deb822.hpp"
#include "apt/index.hpp"
#include "apt/relation.hpp"
#include "apt/release.hpp"
#include "fuzz.hpp"

namespace {

void inside(std::string_view part, std::string_view whole) {
    if (part.empty()) return;
    dmc::fuzz::check(
        part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size(),
        "a deb822 view points outside its text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using namespace dmc;
    const std::string text(reinterpret_cast<const char*>(data), size);
    for (apt::Stanza stanza : apt::Deb822(text)) {
        inside(stanza.text(), text);
        for (apt::Field f : stanza.fields()) {
            inside(f.name, text);
            inside(f.value, text);
            for (std::string_view line : apt::ValueLines(f.value)) inside(line, text);
        }
        for (const char* name : {"Depends", "Pre-Depends", "Build-Depends", "Provides"})
            fuzz::accepted([&] {
                for (const auto& group : apt::parse_relations(stanza.get(name), "amd64"))
                    for (const auto& r : group) fuzz::touch(r.name + r.version + r.arch_qualifier);
            });
    }
    fuzz::accepted([&] {
        const auto release = apt::parse_release(text);
        for (const auto& [path, entry] : release.files) fuzz::touch(path + entry.sha256);
    });
    fuzz::accepted([&] { fuzz::touch(apt::signed_message(text, "InRelease")); });
    (void)apt::parse_release_date(text);
    fuzz::accepted([&] {
        apt::PackageIndex index;
        index.add(text, "http://mirror.invalid/debian", "main", "amd64", "trixie");
        index.for_each_package([&](const apt::Package& pkg) {
            fuzz::touch(pkg.url());
            fuzz::touch(pkg.source());
            fuzz::touch(pkg.source_version());
            for (const auto* same : index.versions(pkg.name()))
                fuzz::check(same->name() == pkg.name(), "an index lookup returned another name");
        });
    });
    return 0;
}
