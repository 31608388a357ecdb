// A plugin built against a later SDK of ABI 1, whose dmc_plugin has fields this host
// does not know yet. The host must load it and ignore what it does not know.
#include <dmc/abi.h>

namespace {

struct dmc_plugin_from_the_future {
    dmc_plugin known;
    const char* field_appended_later;
    int (*hook_appended_later)(void);
};

int prepare(const dmc_prepare_ctx* ctx) {
    ctx->add_package(ctx->opaque, "new-package");
    return 0;
}
int collect(const dmc_collect_ctx*) { return 0; }
int configure(const dmc_configure_ctx*) { return 0; }
int never_called() { return 1; }

const dmc_option kOptions[] = {{"level", "3", "how much"}, {nullptr, nullptr, nullptr}};

const dmc_plugin_from_the_future kPlugin = {
    {1, sizeof(dmc_plugin_from_the_future), "new-abi", "9.0", "built against a later SDK", "app",
     nullptr, prepare, collect, configure, nullptr, kOptions},
    "a field this host does not know",
    never_called};

}  // namespace

extern "C" __attribute__((visibility("default"))) const dmc_plugin_from_the_future*
dmc_plugin_entry() {
    return &kPlugin;
}
