// Finds and loads template plugins with Boost.DLL. A file is refused, with one
// line naming it and the reason, when it is not a dmc plugin, speaks another ABI,
// lacks a required hook, or claims a template name already taken. Loaded plugins
// are never unloaded: what they made may be alive until the process ends.
#pragma once

#include <dmc/abi.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dmc::plugin {

struct Option {
    std::string name, default_value, description;
};

struct Template {
    std::filesystem::path file;
    // The plugin's description as this host knows it: copied up to the size the
    // plugin wrote, so fields it did not know are empty (null hooks, no options).
    dmc_plugin plugin{};
    std::string name, version, description, group;
    std::vector<std::string> builds_on;
    std::optional<std::vector<Option>> options;  // nullopt: it takes any option

    const Option* option(std::string_view key) const;
    // Its options for a build: the declared defaults, then what the config sets.
    std::map<std::string, std::string> effective_options(
        const std::map<std::string, std::map<std::string, std::string>>& configured) const;
};

struct Refusal {
    std::filesystem::path file;
    std::string reason;
    std::string message() const { return "plugin " + file.string() + " refused: " + reason; }
};

class Catalog {
  public:
    // Loads every regular *.so file and every template written as YAML (*.dmc.yaml,
    // plugin/manifest.hpp; a malformed one throws Error) of each directory in order. Whatever
    // cannot be read (a missing directory when `missing` says warn, a FIFO, a symlink loop, an
    // unreadable file) is skipped with a warning naming it. For a name found twice
    // the first one wins and the later file is refused.
    enum class Missing { warn, ignore };
    void load_dirs(const std::vector<std::filesystem::path>& dirs, Missing missing = Missing::warn);
    // Loads one file; returns false (and records the refusal) when it is refused.
    bool load_file(const std::filesystem::path& file);

    const std::vector<Template>& templates() const { return templates_; }
    const std::vector<Refusal>& refusals() const { return refusals_; }
    const std::vector<std::string>& skipped() const { return skipped_; }  // the warnings given
    const Template* find(const std::string& name) const;
    // A template and, first, every template it builds on (transitively), each once:
    // the templates whose hooks make its image. Throws Error for a missing one or a cycle.
    std::vector<const Template*> composition(const std::string& name) const;

  private:
    // Checks a plugin description and takes its template, or records the refusal.
    bool admit(const std::filesystem::path& file, const dmc_plugin* plugin);
    void refuse(const std::filesystem::path& file, std::string reason);
    void skip(std::string message);
    std::vector<Template> templates_;
    std::vector<Refusal> refusals_;
    std::vector<std::string> skipped_;
    std::vector<std::filesystem::path> seen_dirs_;
};

// The plugin search order after --plugin-dir, DMC_PLUGIN_PATH and the config's
// plugin_dirs: the build tree next to the executable, then <prefix>/<libdir>/dmc/plugins.
std::vector<std::filesystem::path> builtin_dirs();

}  // namespace dmc::plugin
