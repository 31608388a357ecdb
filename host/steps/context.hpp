// What every step of a run works with: the settings, the loaded templates, where
// each template and arch keeps its files, and the archive client, made on first use.
// Each step keeps its output in the build directory, so a later run can resume
// from any task (-b) in a new process.
#pragma once

#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "apt/archive.hpp"
#include "config/settings.hpp"
#include "image/layer.hpp"
#include "lock/lock.hpp"
#include "net/http.hpp"
#include "plugin/catalog.hpp"
#include "plugin/hooks.hpp"
#include "rootfs/store_ahead.hpp"
#include "rootfs/unpack.hpp"
#include "tasks/tasks.hpp"
#include "util/fs.hpp"

namespace dmc::steps {

class Context {
  public:
    Context(const config::Settings& settings, const plugin::Catalog& catalog,
            std::vector<std::string> arguments = {}, std::vector<std::string> templates = {});

    const config::Settings& settings;
    const plugin::Catalog& catalog;
    const std::vector<std::string> arguments;  // the package names of `resolve`
    const std::vector<std::string> templates;  // the run's templates, for update's report
    std::string print_to;              // --print: "-" for stdout, or a directory; empty: apply
    std::vector<std::string> command;  // the run's command line, for provenance

    // <builddir>/<dist>/<arch>/<template>: the steps' saved outputs.
    std::filesystem::path work_dir(const std::string& tmpl, const std::string& arch) const;
    // <rootfsdir>/<dist>/<arch>/<template>: its unpacked package sets, one tree each.
    std::filesystem::path rootfs_base(const std::string& tmpl, const std::string& arch) const;
    // The tree the rootfs step chose for this run's packages (recorded in the work
    // dir's rootfs.json). Throws Error when there is none, or when it was made for
    // other image options (a run resumed with -b after one with -T, say), unless
    // `any_options`: why reads the tree of the last build, whatever it was made for.
    std::filesystem::path rootfs_dir(const std::string& tmpl, const std::string& arch,
                                     bool any_options = false) const;
    // A run uses a template's trees from its rootfs step (or first rootfs_dir) to its
    // pack, holding a shared lock (<rootfsdir>/<dist>/<arch>/.<template>.use) that
    // keeps other processes from slimming them meanwhile. use_trees takes it;
    // trees_to_slim gives it up and takes it alone, or gives nothing while another
    // process uses them.
    void use_trees(const std::string& tmpl, const std::string& arch) const;
    std::unique_ptr<FileLock> trees_to_slim(const std::string& tmpl, const std::string& arch);
    // What the hooks of `t` read with setting(); `image` is the template whose image is
    // built, which may be one that builds on `t`.
    plugin::HookSettings hook_settings(const plugin::Template& t, const std::string& arch,
                                       const std::string& image) const;
    apt::Archive& archive();

    // The run's dmc.lock, read on first use (empty with --no-lock); save_lock() writes
    // it when it changed, and says whether it did.
    lock::Lock& lock();
    bool save_lock();
    bool json = false;  // --json: update reports as one JSON document
    // Whether each image ("tmpl/arch") is built already from the same inputs, as
    // decided once per run (steps/inputs.cpp).
    std::map<std::string, bool> current;

    // The images ("tmpl/arch") this run packs whose layers are not started yet.
    // Their layers are written as soon as their configure step ends (steps/pack),
    // by "tmpl/arch", with the key of what they were made from. Waited for when the
    // run ends.
    struct LayerAhead {
        std::string key;
        std::future<image::LayerInfo> layer;
    };
    std::set<std::string> layers_to_come;
    std::map<std::string, LayerAhead> layers_ahead;
    // The pack tasks of this run still to come, and the trees slimmed since the store
    // last shed (steps/pack): it sheds what no tree links any more once the run's last
    // image's tree is slimmed (`shedding`), while that image's layer is written.
    std::size_t packs_to_come = 0;
    std::vector<std::future<void>> slimming;
    std::future<rootfs::TreeSlimmed> shedding;
    // The images ("tmpl/arch") whose rootfs steps this run runs, in order, and the
    // packages the lock gives the later ones, stored ahead on an idle core
    // (steps/rootfs); stopped before the store sheds.
    std::vector<std::string> rootfs_order;
    rootfs::StoreAhead store_ahead;

  private:
    mutable std::map<std::string, std::unique_ptr<FileLock>> trees_in_use_;
    std::optional<lock::Lock> lock_;
    plugin::HookSettings host_facts_;  // dmc_executable, dmc_plugins, host_apt_sources
    std::unique_ptr<net::Http> http_;
    std::unique_ptr<apt::Archive> archive_;
};

}  // namespace dmc::steps
