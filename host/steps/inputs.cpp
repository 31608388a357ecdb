// What an image is built from, and whether it is built already: the key over its
// packages' digests, its templates' names, versions and plugin files, its options
// and this dmc. An image whose key has not changed is not fetched, unpacked, collected,
// configured or packed again; the log says why one is rebuilt.
#include <link.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "log/log.hpp"
#include "steps/steps.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dmc::steps {
namespace {

// This dmc: its version and the build id the linker gave the program, so that a
// rebuilt dmc (which may pack differently) rebuilds the images.
std::string program_identity() {
    static const std::string identity = [] {
        std::string id;
        dl_iterate_phdr(
            [](dl_phdr_info* info, std::size_t, void* data) -> int {
                auto* out = static_cast<std::string*>(data);
                for (int i = 0; i < info->dlpi_phnum; ++i) {
                    const auto& ph = info->dlpi_phdr[i];
                    if (ph.p_type != PT_NOTE) continue;
                    // The loader gives the segment's address as an integer.
                    const char* p =
                        reinterpret_cast<const char*>(  // NOLINT(performance-no-int-to-ptr)
                            info->dlpi_addr + ph.p_vaddr);
                    const char* end = p + ph.p_memsz;
                    while (p + sizeof(ElfW(Nhdr)) <= end) {
                        const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
                        const char* name = p + sizeof(ElfW(Nhdr));
                        const char* desc = name + ((note->n_namesz + 3) & ~3U);
                        if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
                            std::memcmp(name, "GNU", 4) == 0 && desc + note->n_descsz <= end) {
                            *out = to_hex(std::string_view(desc, note->n_descsz));
                            return 1;
                        }
                        p = desc + ((note->n_descsz + 3) & ~3U);
                    }
                }
                return 1;  // the first object is the program itself
            },
            &id);
        if (id.empty()) {
            std::error_code ec;
            id = sha256_file(fs::read_symlink("/proc/self/exe", ec));
        }
        return std::string(DMC_VERSION) + " " + id;
    }();
    return identity;
}

std::string file_digest(const fs::path& file) {
    static std::map<std::string, std::string> digests;
    auto it = digests.find(file.string());
    if (it == digests.end()) it = digests.emplace(file.string(), sha256_file(file)).first;
    return it->second;
}

struct Inputs {
    std::map<std::string, std::string> packages;   // "name:arch" -> "version sha256"
    std::map<std::string, std::string> templates;  // name -> "version file-sha256"
    std::map<std::string, std::string> options;
    std::string program;
    std::string key() const {
        return sha256_hex(json{
            {"packages", packages},
            {"templates", templates},
            {"options", options},
            {"program",
             program}}.dump());
    }
};

Inputs inputs_now(Context& context, const std::string& tmpl, const std::string& arch) {
    Inputs in;
    for (const auto& r : resolve_template(context, tmpl, arch))
        in.packages[r.name + ":" + r.arch] = r.version + " " + r.sha256;
    // A build from source's source, as the lock has it (resolve_template put it there).
    if (const auto* e = context.lock().find(context.settings.dist, arch, tmpl); e && e->source)
        in.packages["source " + e->source->name] = e->source->version + " " + e->source->sha256;
    for (const auto* t : context.catalog.composition(tmpl))
        in.templates[t->name] = t->version + " " + file_digest(t->file);
    in.options = image_options(context, tmpl);
    in.options["tag"] = context.settings.tag;
    in.program = program_identity();
    return in;
}

fs::path inputs_file(const Context& context, const std::string& tmpl, const std::string& arch) {
    return context.work_dir(tmpl, arch) / "inputs.json";
}

std::string first_word(const std::string& s) { return s.substr(0, s.find(' ')); }

// "libssl3 3.5.1-1 -> 3.5.1-2, template nginx 1.0 -> 1.1, option tools"; a package
// of another arch than the image's (or "all") keeps its ":arch".
std::string what_changed(const Inputs& old, const Inputs& now, const std::string& arch) {
    std::vector<std::string> out;
    auto diff = [&](const std::map<std::string, std::string>& a,
                    const std::map<std::string, std::string>& b, const std::string& prefix) {
        auto shown = [&](std::string name) {
            for (const std::string& suffix : {":" + arch, std::string(":all")})
                if (name.ends_with(suffix)) return name.substr(0, name.size() - suffix.size());
            return name;
        };
        for (const auto& [key, value] : b) {
            const std::string name = shown(key);
            auto it = a.find(key);
            if (it == a.end())
                out.push_back(prefix + name + " (new) -> " + first_word(value));
            else if (it->second != value && first_word(it->second) != first_word(value))
                out.push_back(prefix + name + " " + first_word(it->second) + " -> " +
                              first_word(value));
            else if (it->second != value)
                out.push_back(prefix + name + " " + first_word(value) + " (rebuilt)");
        }
        for (const auto& [key, value] : a)
            if (!b.count(key))
                out.push_back(prefix + shown(key) + " " + first_word(value) + " -> (removed)");
    };
    diff(old.packages, now.packages, "");
    diff(old.templates, now.templates, "template ");
    for (const auto& [name, value] : now.options)
        if (auto it = old.options.find(name); it == old.options.end() || it->second != value)
            out.push_back("option " + name);
    for (const auto& [name, value] : old.options)
        if (!now.options.count(name)) out.push_back("option " + name);
    if (old.program != now.program)
        out.push_back("dmc is another build (" + first_word(now.program) + ")");
    std::string text;
    for (const auto& o : out) text += (text.empty() ? "" : ", ") + o;
    return text;
}

std::optional<Inputs> saved_inputs(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return std::nullopt;
    try {
        const auto j = json::parse(read_file(file));
        Inputs in;
        j.at("packages").get_to(in.packages);
        j.at("templates").get_to(in.templates);
        j.at("options").get_to(in.options);
        j.at("program").get_to(in.program);
        return in;
    } catch (const json::exception&) {
        return std::nullopt;  // built again
    }
}

}  // namespace

std::map<std::string, std::string> image_templates(const Context& context,
                                                   const std::string& tmpl) {
    std::map<std::string, std::string> out;
    for (const auto* t : context.catalog.composition(tmpl)) out[t->name] = t->version;
    return out;
}

std::map<std::string, std::string> image_options(const Context& context, const std::string& tmpl) {
    const auto& s = context.settings;
    std::map<std::string, std::string> out{
        {"tools", s.tools ? "true" : "false"},
        {"mode", s.small ? "small" : "micro"},
        {"compression", s.compression},
    };
    if (s.source_date_epoch) out["source_date_epoch"] = std::to_string(*s.source_date_epoch);
    for (const auto* t : context.catalog.composition(tmpl))
        for (const auto& [k, v] : t->effective_options(s.template_options))
            out[t->name + "." + k] = v;
    return out;
}

bool image_current(Context& context, const std::string& tmpl, const std::string& arch) {
    const std::string id = tmpl + "/" + arch;
    if (auto it = context.current.find(id); it != context.current.end()) return it->second;
    const auto now = inputs_now(context, tmpl, arch);
    const auto old = saved_inputs(inputs_file(context, tmpl, arch));
    const auto built = built_image(context, tmpl, arch);
    const bool current = old && built && old->key() == now.key();
    if (current)
        log::notice(tmpl + " " + arch + ": unchanged, " + built->digest);
    else if (!old)
        log::notice(tmpl + " " + arch + ": rebuilt: not built before");
    else if (!built)
        log::notice(tmpl + " " + arch + ": rebuilt: its image is missing from " +
                    context.settings.image_dir.string());
    else
        log::notice(tmpl + " " + arch + ": rebuilt: " + what_changed(*old, now, arch));
    context.current[id] = current;
    return current;
}

namespace {

// What the provenance says the image was built from, recorded when it is packed:
// the command, the options, the template plugins, the .debs and the signed Release
// files they were verified against, each with its digest; no credential of a
// mirror's URL.
json build_record(Context& context, const std::string& tmpl, const std::string& arch,
                  const Inputs& inputs) {
    const auto& s = context.settings;
    json templates = json::object();
    for (const auto* t : context.catalog.composition(tmpl))
        templates[t->name] = {{"version", t->version},
                              {"file", t->file.filename().string()},
                              {"sha256", file_digest(t->file)}};
    json packages = json::array();
    for (const auto& r : resolve_template(context, tmpl, arch))
        packages.push_back({{"name", r.name},
                            {"version", r.version},
                            {"arch", r.arch},
                            {"uri", without_credentials(r.url)},
                            {"sha256", r.sha256}});
    json releases = json::array();
    if (const auto* entry = context.lock().find(s.dist, arch, tmpl))
        for (const auto& r : entry->releases)
            releases.push_back({{"uri", r.mirror + "/dists/" + r.suite + "/InRelease"},
                                {"sha256", r.sha256},
                                {"date", r.date}});
    json command = json::array();
    for (const auto& a : context.command) command.push_back(redact_credentials(a));
    return {{"command", command},        {"dist", s.dist},           {"arch", arch},
            {"options", inputs.options}, {"templates", templates},   {"packages", packages},
            {"releases", releases},      {"program", inputs.program}};
}

}  // namespace

fs::path build_record_file(const Context& context, const std::string& tmpl,
                           const std::string& arch) {
    return context.work_dir(tmpl, arch) / "build.json";
}

void save_inputs(Context& context, const std::string& tmpl, const std::string& arch) {
    const auto now = inputs_now(context, tmpl, arch);
    write_file_atomic(build_record_file(context, tmpl, arch),
                      build_record(context, tmpl, arch, now).dump(1));
    write_file_atomic(inputs_file(context, tmpl, arch), json{{"key", now.key()},
                                                             {"packages", now.packages},
                                                             {"templates", now.templates},
                                                             {"options", now.options},
                                                             {"program", now.program}}
                                                            .dump(1));
}

}  // namespace dmc::steps
