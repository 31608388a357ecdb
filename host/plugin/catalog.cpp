#include "plugin/catalog.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/dll/library_info.hpp>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <set>

#include "log/log.hpp"
#include "plugin/manifest.hpp"
#include "util/error.hpp"
#include "util/name.hpp"

namespace fs = std::filesystem;

namespace dmc::plugin {
namespace {

// Intentionally leaked: dlclose() never runs, so nothing a plugin made can outlive its code.
std::vector<boost::dll::shared_library>& loaded_libraries() {
    static auto* libraries = new std::vector<boost::dll::shared_library>();
    return *libraries;
}

std::string text_or_empty(const char* s) { return s == nullptr ? "" : s; }

}  // namespace

std::vector<fs::path> builtin_dirs() {
    std::error_code ec;
    fs::path exe = boost::dll::program_location(ec);
    if (ec) return {};
    fs::path bin = exe.parent_path();
    return {bin / "plugins", bin.parent_path() / DMC_INSTALL_PLUGIN_SUBDIR};
}

void Catalog::skip(std::string message) {
    log::warning(message);
    skipped_.push_back(std::move(message));
}

void Catalog::refuse(const fs::path& file, std::string reason) {
    refusals_.push_back({file, std::move(reason)});
    log::warning(refusals_.back().message());
}

const Option* Template::option(std::string_view key) const {
    if (!options) return nullptr;
    for (const auto& o : *options)
        if (o.name == key) return &o;
    return nullptr;
}

std::map<std::string, std::string> Template::effective_options(
    const std::map<std::string, std::map<std::string, std::string>>& configured) const {
    std::map<std::string, std::string> out;
    if (options)
        for (const auto& o : *options) out[o.name] = o.default_value;
    if (auto it = configured.find(name); it != configured.end())
        for (const auto& [k, v] : it->second) out[k] = v;
    return out;
}

const Template* Catalog::find(const std::string& name) const {
    for (const auto& t : templates_)
        if (t.name == name) return &t;
    return nullptr;
}

void Catalog::load_dirs(const std::vector<fs::path>& dirs, Missing missing) {
    for (const auto& dir : dirs) {
        std::error_code ec;
        const auto status = fs::status(dir, ec);
        if (!fs::is_directory(status)) {
            const std::string why = fs::exists(status) ? "is not a directory" : "does not exist";
            if (missing == Missing::warn)
                skip("plugin directory " + dir.string() + " " + why + ", skipped");
            else
                log::detail("plugin directory " + dir.string() + " " + why + ", skipped");
            continue;
        }
        fs::path canonical = fs::weakly_canonical(dir, ec);
        if (std::find(seen_dirs_.begin(), seen_dirs_.end(), canonical) != seen_dirs_.end())
            continue;
        seen_dirs_.push_back(canonical);
        std::vector<fs::path> files;
        fs::directory_iterator it(dir, ec);
        if (ec) {
            skip("plugin directory " + dir.string() + " cannot be read (" + ec.message() +
                 "), skipped");
            continue;
        }
        for (const auto& entry : it) {
            const std::string name = entry.path().filename().string();
            if (entry.path().extension() == ".so" ||
                (name.size() > std::strlen(manifest_suffix) && name.ends_with(manifest_suffix)))
                files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            // Only regular files, after following symlinks: opening a FIFO or a device
            // to read its symbols would block or read forever.
            const auto file_status = fs::status(file, ec);
            if (ec) {
                skip("plugin " + file.string() + " skipped: " + ec.message());
                continue;
            }
            if (!fs::is_regular_file(file_status)) {
                skip("plugin " + file.string() + " skipped: not a regular file");
                continue;
            }
            if (::access(file.c_str(), R_OK) != 0) {
                skip("plugin " + file.string() + " skipped: " + std::strerror(errno));
                continue;
            }
            if (file.extension() == ".so")
                load_file(file);
            else
                admit(file, load_manifest_template(file));  // a malformed one stops dmc
        }
    }
}

bool Catalog::load_file(const fs::path& file) {
    // Look at the symbol table before loading, so a stray .so never runs its initialisers.
    try {
        boost::dll::library_info info(file, /*throw_if_not_native=*/true);
        auto symbols = info.symbols();
        if (std::find(symbols.begin(), symbols.end(), DMC_PLUGIN_ENTRY_SYMBOL) == symbols.end()) {
            refuse(file,
                   std::string("not a dmc plugin (no ") + DMC_PLUGIN_ENTRY_SYMBOL + " symbol)");
            return false;
        }
    } catch (const std::exception& e) {
        refuse(file, "not a dmc plugin (not a shared library of this machine)");
        return false;
    }

    boost::dll::shared_library library;
    try {
        library.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        refuse(file, std::string("cannot be loaded: ") + e.what());
        return false;
    }
    std::function<const dmc_plugin*()> entry;
    try {
        entry = library.get<const dmc_plugin*()>(DMC_PLUGIN_ENTRY_SYMBOL);
    } catch (const std::exception& e) {
        refuse(file,
               std::string("its ") + DMC_PLUGIN_ENTRY_SYMBOL + " cannot be called: " + e.what());
        return false;
    }
    const dmc_plugin* plugin = entry();
    // From here on the library stays loaded, even when refused: its entry already ran.
    loaded_libraries().push_back(library);
    return admit(file, plugin);
}

bool Catalog::admit(const fs::path& file, const dmc_plugin* plugin) {
    if (plugin == nullptr) {
        refuse(file, "its entry point returned no plugin description");
        return false;
    }
    if (plugin->abi_version != DMC_PLUGIN_ABI_VERSION) {
        refuse(file, "built for plugin ABI " + std::to_string(plugin->abi_version) +
                         ", this dmc uses ABI " + std::to_string(DMC_PLUGIN_ABI_VERSION) +
                         "; rebuild it against this dmc's SDK");
        return false;
    }
    // Any size from ABI 1's first one up: fields appended since are read only when
    // the plugin wrote them, and fields appended after this host are ignored.
    if (plugin->struct_size < DMC_PLUGIN_SIZE_V1) {
        refuse(file, "its plugin description is truncated (" + std::to_string(plugin->struct_size) +
                         " bytes, ABI " + std::to_string(DMC_PLUGIN_ABI_VERSION) +
                         " needs at least " + std::to_string(DMC_PLUGIN_SIZE_V1) + ")");
        return false;
    }
    dmc_plugin known{};
    std::memcpy(&known, plugin, std::min<std::size_t>(plugin->struct_size, sizeof known));
    known.struct_size =
        static_cast<std::uint32_t>(std::min<std::size_t>(plugin->struct_size, sizeof known));
    plugin = &known;
    const std::string name = text_or_empty(plugin->name);
    if (auto why = unsafe_name(name)) {
        refuse(file, "its template name " + quote_value(name) + " is not valid: " + *why);
        return false;
    }
    // What a plugin says ends up in paths, help texts and logs: checked like any input.
    std::vector<std::string> builds_on;
    if (plugin->builds_on != nullptr)
        for (auto p = plugin->builds_on; *p != nullptr; ++p) builds_on.emplace_back(*p);
    const std::string group = text_or_empty(plugin->group);
    std::optional<std::string> bad;
    if (!group.empty() && unsafe_name(group))
        bad = "its group " + quote_value(group) + " is not a valid name";
    for (const auto& base : builds_on)
        if (unsafe_name(base))
            bad = "it builds on " + quote_value(base) + ", which is not a valid template name";
    for (const char* text : {plugin->version, plugin->description})
        if (control_character(text_or_empty(text)))
            bad = "its version or description holds a control character";
    std::optional<std::vector<Option>> options;
    if (DMC_HAS_FIELD(plugin, dmc_plugin, options) && plugin->options != nullptr) {
        options.emplace();
        for (const dmc_option* o = plugin->options; o->name != nullptr; ++o) {
            if (options->size() == 256) {
                bad = "it declares more than 256 options (is its list unterminated?)";
                break;
            }
            Option option{o->name, text_or_empty(o->default_value), text_or_empty(o->description)};
            if (unsafe_name(option.name) || option.name.find('.') != std::string::npos ||
                control_character(option.default_value) || control_character(option.description))
                bad = "its option " + quote_value(option.name) +
                      " has an invalid name, default or description";
            options->push_back(std::move(option));
        }
    }
    if (bad) {
        refuse(file, *bad);
        return false;
    }
    const std::pair<const char*, bool> hooks[] = {{"prepare", plugin->prepare != nullptr},
                                                  {"collect", plugin->collect != nullptr},
                                                  {"configure", plugin->configure != nullptr}};
    for (const auto& [hook, present] : hooks) {
        if (!present) {
            refuse(file, "template '" + name + "' lacks the required hook '" + hook + "'");
            return false;
        }
    }
    if (const Template* other = find(name)) {
        refuse(file, "template '" + name + "' is already provided by " + other->file.string());
        return false;
    }
    Template t;
    t.file = file;
    t.plugin = known;
    t.name = name;
    t.version = text_or_empty(plugin->version);
    t.description = text_or_empty(plugin->description);
    t.group = group;
    t.builds_on = builds_on;
    t.options = std::move(options);
    log::detail("loaded template " + name + " " + t.version + " from " + file.string());
    templates_.push_back(std::move(t));
    return true;
}

std::vector<const Template*> Catalog::composition(const std::string& name) const {
    std::vector<const Template*> out;
    std::set<std::string> visiting;
    std::function<void(const std::string&, const std::string&)> visit =
        [&](const std::string& n, const std::string& from) {
            const Template* t = find(n);
            if (t == nullptr)
                throw Error("template '" + from + "' builds on '" + n +
                            "', which is not loaded; add its plugin directory with --plugin-dir");
            if (std::find(out.begin(), out.end(), t) != out.end()) return;
            if (!visiting.insert(n).second)
                throw Error("templates build on each other in a cycle through '" + n + "'");
            for (const auto& base : t->builds_on) visit(base, n);
            out.push_back(t);
        };
    visit(name, name);
    return out;
}

}  // namespace dmc::plugin
