// A plugin of the right ABI without a collect hook.
#include <dmc/abi.h>

namespace {
int prepare(const dmc_prepare_ctx*) { return 0; }
int configure(const dmc_configure_ctx*) { return 0; }
}  // namespace

extern "C" __attribute__((visibility("default"))) const dmc_plugin* dmc_plugin_entry(void) {
    static dmc_plugin plugin{};
    plugin.abi_version = DMC_PLUGIN_ABI_VERSION;
    plugin.struct_size = sizeof plugin;
    plugin.name = "hookless";
    plugin.group = "core";
    plugin.prepare = &prepare;
    plugin.configure = &configure;
    return &plugin;
}
