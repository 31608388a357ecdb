// Sources: the Sources index's stanza, the .dsc and its files, or a pinned tarball,
// fetched into the cache and checked before anything is unpacked.
#include "source/source.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <tuple>

#include "apt/deb822.hpp"
#include "apt/release.hpp"
#include "apt/version.hpp"
#include "log/log.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/name.hpp"
#include "util/process.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dmc::source {

namespace {

bool hex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

fs::path cached(const fs::path& cache_dir, const SourceFile& f) {
    return cache_dir / "sources" / f.sha256;
}

void fetch_files(apt::Archive& archive, const std::string& base_url, std::vector<SourceFile>& files,
                 const fs::path& cache_dir) {
    std::vector<net::Download> downloads;
    std::error_code ec;
    fs::create_directories(cache_dir / "sources", ec);
    for (auto& f : files) {
        f.path = cached(cache_dir, f);
        // A cached file was checked when it was written: it is named by its SHA256.
        if (fs::exists(f.path, ec) && (f.size == 0 || fs::file_size(f.path, ec) == f.size))
            continue;
        downloads.push_back({base_url + f.name, f.path, f.sha256,
                             f.size ? std::optional<std::uint64_t>(f.size) : std::nullopt, f.name});
    }
    if (!downloads.empty()) archive.http().fetch(downloads);
}

// The Sources stanza of `name` (at `version`, else the newest).
Source from_index(apt::Archive& archive, const std::string& name, const std::string& version) {
    Source best;
    std::string best_dir, best_mirror;
    for (const auto& index : archive.source_indexes(false)) {
        const std::string text = archive.index_text(index);
        for (const auto& stanza : apt::Deb822(text)) {
            if (stanza.get("Package") != name) continue;
            const std::string v(stanza.get("Version"));
            if (!version.empty() && v != version) continue;
            if (!best.version.empty() && apt::compare_versions(v, best.version) <= 0) continue;
            best.name = name;
            best.version = v;
            best.build_depends = std::string(apt::trim(stanza.get("Build-Depends")));
            best.files = checksum_list(stanza.get("Checksums-Sha256"),
                                       "the Sources entry of " + name + " " + v);
            best_dir = std::string(apt::trim(stanza.get("Directory")));
            best_mirror = index.mirror;
        }
    }
    if (best.version.empty())
        throw Error("source package " + name + (version.empty() ? "" : " " + version) +
                    " is not in the Sources index of the dist; check the template's "
                    "source_package, or the mirror's components");
    std::string rest = best_dir;
    while (!rest.empty()) {
        const std::string part = rest.substr(0, rest.find('/'));
        rest = rest.size() > part.size() ? rest.substr(part.size() + 1) : "";
        if (unsafe_name(part))
            throw Error("the Sources entry of " + name + " has a bad Directory: " + best_dir);
    }
    auto dsc = std::find_if(best.files.begin(), best.files.end(),
                            [](const SourceFile& f) { return f.name.ends_with(".dsc"); });
    if (dsc == best.files.end())
        throw Error("the Sources entry of " + name + " " + best.version + " lists no .dsc");
    std::rotate(best.files.begin(), dsc, dsc + 1);
    best.base_url = best_mirror + "/" + best_dir + "/";
    best.origin = best.base_url + best.files[0].name;
    return best;
}

}  // namespace

std::string Source::digest() const {
    std::string text = "source 1\n";
    for (const auto& f : files) text += f.sha256 + " " + f.name + "\n";
    return sha256_hex(text);
}

std::vector<SourceFile> checksum_list(std::string_view field, const std::string& what) {
    std::vector<SourceFile> out;
    const auto w = words(field);
    if (w.size() % 3 != 0) throw Error(what + ": malformed checksum lines");
    for (std::size_t i = 0; i < w.size(); i += 3) {
        std::uint64_t size = 0;
        const std::string& s = w[i + 1];
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), size);
        if (!hex64(w[i]) || ec != std::errc() || end != s.data() + s.size() ||
            unsafe_name(w[i + 2]))
            throw Error(what + ": a malformed checksum line: " + w[i] + " " + s + " " + w[i + 2]);
        out.push_back({w[i + 2], w[i], size, {}});
    }
    if (out.empty()) throw Error(what + " lists no files");
    return out;
}

std::pair<std::string, std::string> tarball_identity(const std::string& file,
                                                     const std::string& fallback) {
    std::string stem = file.substr(0, file.find(".tar"));
    if (stem.ends_with(".orig")) stem.resize(stem.size() - 5);
    for (std::size_t i = stem.size(); i-- > 1;)
        if ((stem[i] == '_' || stem[i] == '-') && i + 1 < stem.size() &&
            std::isdigit(static_cast<unsigned char>(stem[i + 1])))
            return {stem.substr(0, i), stem.substr(i + 1)};
    return {fallback, "0"};
}

Source locate(apt::Archive& archive, const plugin::BuildSpec& build, const std::string& version) {
    if (build.tarball_url.empty())
        return from_index(archive, build.source_package,
                          version.empty() ? build.source_version : version);
    Source s;
    const std::string& url = build.tarball_url;
    const bool relative = url.find("://") == std::string::npos;
    if (relative && archive.mirrors().empty())
        throw Error("the tarball " + url +
                    " is a path on the archive mirror, and no mirror is set");
    s.origin = relative ? archive.mirrors().front().url + "/" + url : url;
    s.base_url = s.origin.substr(0, s.origin.rfind('/') + 1);
    const std::string name = url.substr(url.rfind('/') + 1);
    if (!hex64(build.tarball_sha256))
        throw Error("template " + build.template_name + ": the tarball's SHA256 '" +
                    build.tarball_sha256 + "' is not 64 lowercase hex digits");
    if (name.empty() || unsafe_name(name))
        throw Error("template " + build.template_name + ": the tarball URL " + url +
                    " names no file");
    std::tie(s.name, s.version) = tarball_identity(name, build.template_name);
    s.files.push_back({name, build.tarball_sha256, 0, {}});
    return s;
}

void fetch(apt::Archive& archive, Source& s, const fs::path& cache_dir, const fs::path& keyring) {
    fetch_files(archive, s.base_url, s.files, cache_dir);
    for (auto& f : s.files) f.size = fs::file_size(f.path);
    if (!s.debian()) return;
    // The .dsc names the same files with the same digests, or it is not this source.
    const std::string what = s.origin;
    const std::string armoured = read_file(s.files[0].path);
    std::string text;
    if (!keyring.empty()) {
        try {
            text = apt::verify_inrelease(armoured, keyring.string(), what);
        } catch (const Error& e) {
            log::info(e.what());
            throw Error(what + ": not signed by a key of " + keyring.string() +
                        "; set source_keyring to the keyring of its uploaders");
        }
        log::info(what + ": signed by a key of " + keyring.string());
    } else {
        text = apt::signed_message(armoured, what);
        log::info(what +
                  ": trusted through the signed Sources index (no uploaders' keyring, "
                  "debian-keyring or source_keyring, to check its own signature)");
    }
    const apt::Deb822 doc(text);
    auto stanza = doc.begin();
    if (stanza == doc.end() || stanza->get("Source") != s.name)
        throw Error(what + " is not the .dsc of " + s.name);
    for (const auto& f : checksum_list(stanza->get("Checksums-Sha256"), what)) {
        auto in_index = std::find_if(s.files.begin(), s.files.end(),
                                     [&](const SourceFile& g) { return g.name == f.name; });
        if (in_index == s.files.end() || in_index->sha256 != f.sha256 || in_index->size != f.size)
            throw Error(what + ": " + f.name +
                        " does not match the Sources index; the mirror is "
                        "corrupt or tampered with");
    }
}

fs::path unpack(const Source& source, const fs::path& dir) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    if (source.debian()) {
        // dpkg-source wants the files side by side under their names.
        const fs::path files = dir / "files";
        fs::create_directories(files);
        for (const auto& f : source.files) fs::create_symlink(f.path, files / f.name);
        fs::path tree = dir / "src";
        auto r = run_process(
            {{find_executable("dpkg-source", "/usr/bin:/bin"), "--no-check", "--no-copy", "-x",
              (files / source.files[0].name).string(), tree.string()},
             {},
             std::string(),
             true,
             std::chrono::seconds(600)});
        if (r.status != 0)
            throw Error("dpkg-source -x " + source.files[0].name + " failed: " + r.output);
        return tree;
    }
    fs::path tree = dir / "src";
    fs::create_directories(tree);
    auto r = run_process(
        {{find_executable("tar", "/usr/bin:/bin"), "-x", "--no-same-owner", "--no-same-permissions",
          "-f", source.files[0].path.string(), "-C", tree.string()},
         {},
         std::string(),
         true,
         std::chrono::seconds(600)});
    if (r.status != 0) throw Error("cannot unpack " + source.origin + ": " + r.output);
    // A tarball of one top directory builds in it.
    std::vector<fs::path> top;
    for (const auto& e : fs::directory_iterator(tree)) top.push_back(e.path());
    if (top.size() == 1 && fs::is_directory(top[0])) return top[0];
    return tree;
}

}  // namespace dmc::source
