// A plugin built for a future ABI.
#include <dmc/abi.h>

namespace {
int ok(const void*) { return 0; }
}  // namespace

extern "C" __attribute__((visibility("default"))) const dmc_plugin* dmc_plugin_entry(void) {
    static dmc_plugin plugin{};
    plugin.abi_version = 99;
    plugin.struct_size = sizeof plugin;
    plugin.name = "future";
    plugin.prepare = reinterpret_cast<int (*)(const dmc_prepare_ctx*)>(&ok);
    plugin.collect = reinterpret_cast<int (*)(const dmc_collect_ctx*)>(&ok);
    plugin.configure = reinterpret_cast<int (*)(const dmc_configure_ctx*)>(&ok);
    return &plugin;
}
