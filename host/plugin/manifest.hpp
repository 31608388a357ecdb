// Templates written as YAML instead of C++: a NAME.dmc.yaml file in any template
// directory says in data what a C++ template's hooks say in calls, with the SDK's
// own words:
//
//   name: nginx                  version: "1.0"   group: core   description: ...
//   builds_on: [other]           options: {port: {default: "8080", description: ...}}
//   prepare:   packages, exclude, want, alternatives {NAME: PATH}
//   collect:   paths, globs, dlopened, allow_missing, package_files, allow_setid
//   configure: system_users, groups [{name, gid}], users [{name, uid, gid, home, shell}],
//              remove, dirs [{path, mode, owner}], files [{path, source | content, mode,
//              owner}], copy [{from, to, mode}], symlinks [{path, target}], entrypoint,
//              cmd, env {NAME: VALUE}, user, workdir, expose, volumes, labels
//              {NAME: VALUE}, stop_signal
//
// A file's `source` is a file next to the YAML (the files it writes are kept with
// it); an `owner` is a user the same configure declares; "${KEY}" in any string is
// the hook setting KEY (arch, multiarch, dist, option.NAME, ...; abi.h lists them).
// The hooks are the SDK's, run by the host across the same C boundary as a
// plugin's, so a YAML template builds the same image as the C++ one it mirrors.
// deploy: config_maps, generated_secrets, deployments, stateful_sets, services, with
// the SDK's builders and dmc::sdk::kube::Container's fields (README: Writing a template).
// Every error names the file, the line and the key, as for the config file.
#pragma once

#include <dmc/abi.h>

#include <filesystem>

namespace dmc::plugin {

// The suffix of template files written as YAML.
inline constexpr const char* manifest_suffix = ".dmc.yaml";

// The plugin description of the template in `file`; it and everything it points to
// live until the process ends. Throws Error naming the file, line and key.
const dmc_plugin* load_manifest_template(const std::filesystem::path& file);

}  // namespace dmc::plugin
