// A plugin as built against the first release of ABI 1: its own copy of that
// dmc_plugin, which lacks every field appended since. A newer host must load it.
#include <dmc/abi.h>

namespace {

struct dmc_plugin_as_first_released {
    uint32_t abi_version;
    uint32_t struct_size;
    const char* name;
    const char* version;
    const char* description;
    const char* group;
    const char* const* builds_on;
    int (*prepare)(const dmc_prepare_ctx*);
    int (*collect)(const dmc_collect_ctx*);
    int (*configure)(const dmc_configure_ctx*);
    int (*deploy)(const dmc_deploy_ctx*);
};

int prepare(const dmc_prepare_ctx* ctx) {
    ctx->add_package(ctx->opaque, "old-package");
    return 0;
}
int collect(const dmc_collect_ctx*) { return 0; }
int configure(const dmc_configure_ctx*) { return 0; }

const dmc_plugin_as_first_released kPlugin = {1,
                                              sizeof(dmc_plugin_as_first_released),
                                              "old-abi",
                                              "0.1",
                                              "built against ABI 1 as first released",
                                              "app",
                                              nullptr,
                                              prepare,
                                              collect,
                                              configure,
                                              nullptr};

}  // namespace

extern "C" __attribute__((visibility("default"))) const dmc_plugin_as_first_released*
dmc_plugin_entry() {
    return &kPlugin;
}
