// The command line, with the original bash dmc's options (Boost.Program_options).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace dmc::cli {

struct Options {
    std::optional<std::vector<std::string>> archs;      // -A
    std::optional<std::string> dist;                    // -D
    std::optional<std::string> mirror;                  // -M
    std::optional<std::string> host;                    // -H
    bool tools = false;                                 // -T
    bool remove = false;                                // -X
    std::optional<std::vector<std::string>> templates;  // -t
    std::optional<std::vector<std::string>> groups;     // -g
    std::optional<std::string> activity;                // -a or the first positional argument
    bool list = false;                                  // -l
    std::optional<std::string> begin, end, only;        // -b -e -o: a number or a task name
    bool help = false;                                  // -h
    bool version = false;
    std::optional<std::string> config;               // --config
    std::optional<std::string> ns;                   // -N
    std::vector<std::string> plugin_dirs;            // --plugin-dir, repeatable
    std::optional<std::string> imagedir;             // --imagedir
    bool small = false;                              // --small
    bool allow_unsigned = false;                     // --allow-unsigned
    std::optional<std::string> kubeconfig, context;  // --kubeconfig, --context
    std::optional<std::string> print;                // --print: "-" for stdout, else a directory
    bool force_conflicts = false;                    // --force-conflicts
    bool no_wait = false;                            // --no-wait
    bool no_lock = false;                            // --no-lock
    bool json = false;                               // --json: update's report as JSON
    std::optional<std::string> snapshot;             // --snapshot DATE
    std::optional<std::string> sign;                 // --sign KEY
    std::optional<std::string> key;                  // --key FILE (keygen, verify)
    std::vector<std::string> arguments;              // what follows the activity
};

// Throws UsageError naming the offending option.
Options parse(int argc, const char* const* argv);
Options parse(const std::vector<std::string>& args);  // without the program name

// Command line over environment over config file over defaults.
config::Settings effective_settings(const Options& options,
                                    config::Getenv getenv = config::real_getenv);

struct HelpEntry {
    std::string name, description;
};

// The original bash dmc's help layout, with the values taken from what is loaded.
std::string help_text(const std::vector<HelpEntry>& templates, const std::vector<HelpEntry>& groups,
                      const std::vector<HelpEntry>& activities);

}  // namespace dmc::cli
