// Maintainer scripts read, never run. dmc cannot run a package's postinst (it may be
// for another arch, and an image has no shell), but the effects that matter for an
// image (update-alternatives, adduser, dpkg-divert) are plain command lines in them.
// This reads a POSIX shell script into its simple commands, quotes removed and the
// variables expanded that the script itself gives a literal value, and marks every
// word it could not follow (a command substitution, a variable set at run time), so
// that callers report such a command by name instead of guessing.
//
// Control flow is not evaluated: a command inside `if` or `case` counts as run, as
// it is on a fresh install's "configure" (the reason postinsts have them).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "rootfs/manifest.hpp"

namespace dmc::rootfs {

struct ScriptWord {
    std::string text;
    bool known = true;  // false: an expansion dmc could not follow
};

struct ScriptCommand {
    std::vector<ScriptWord> words;  // the command name first; keywords (if, then...) dropped
    int line = 0;                   // where the command starts, from 1
    bool known() const;             // every word known
    std::string text() const;       // the words joined by blanks, "?" for unknown ones
};

// The values a script may ask for at run time that are facts of the build: the
// positional parameters of a fresh install ("1" = "configure") and what
// `dpkg-architecture -qVAR` and `dpkg --print-architecture` answer for the arch.
struct ScriptFacts {
    std::map<std::string, std::string> variables;     // "1" -> "configure"
    std::map<std::string, std::string> architecture;  // "DEB_HOST_MULTIARCH" -> triplet
    std::string arch;                                 // dpkg --print-architecture
};
ScriptFacts script_facts(const std::string& debian_arch, const std::string& triplet);

// The simple commands of `script`, in order.
std::vector<ScriptCommand> read_script(std::string_view script, const ScriptFacts& facts);

// A maintainer-script command that would have an effect dmc reproduces, but whose
// arguments a static reading cannot follow: reported, never guessed.
struct UnfollowedCommand {
    std::string package, script;  // "libfoo1", "postinst"
    int line = 0;
    std::string command;  // its words, "?" for each one not followed
};

// The commands `wanted` picks in the preinsts of `packages` taken in `order`, then in
// their postinsts: the order dpkg runs them in on a fresh install. `each` gets those
// whose words are all known; the others, and those `each` refuses by throwing
// std::invalid_argument (its message saying why), are added to `unfollowed`.
void for_each_script_command(
    const std::map<std::string, PackageRecord>& packages, const std::vector<std::string>& order,
    const ScriptFacts& facts, const std::function<bool(const ScriptCommand&)>& wanted,
    const std::function<void(const ScriptCommand&, const std::string& package,
                             const std::string& script)>& each,
    std::vector<UnfollowedCommand>& unfollowed);

}  // namespace dmc::rootfs
