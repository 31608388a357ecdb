// The SDK's side of a growing boundary: a template built against this SDK, run by a
// host that wrote smaller context structs, never calls a field the host did not know.
#include <gtest/gtest.h>

#include <dmc/sdk.hpp>

namespace {

bool g_glob_called = false;

const char* glob_that_must_not_run(void*, const char*) {
    g_glob_called = true;
    return "";
}
const char* no_setting(void*, const char*) { return nullptr; }
void ignore_log(void*, int, const char*) {}
void ignore_fail(void*, const char*) {}

TEST(Sdk, AFieldTheHostDidNotWriteIsNeverCalled) {
    dmc_host host{};
    host.struct_size = DMC_HOST_SIZE_V1;
    host.log = ignore_log;
    host.fail = ignore_fail;
    host.setting = no_setting;
    dmc_configure_ctx ctx{};
    ctx.host = &host;
    ctx.glob = glob_that_must_not_run;  // present in memory, but not in the size the host wrote
    ctx.struct_size = DMC_CONFIGURE_CTX_SIZE_V1;
    dmc::sdk::Configure older(&ctx);
    EXPECT_TRUE(older.glob("/usr/sbin/*").empty());
    EXPECT_FALSE(g_glob_called);

    ctx.struct_size = sizeof ctx;
    dmc::sdk::Configure current(&ctx);
    current.glob("/usr/sbin/*");
    EXPECT_TRUE(g_glob_called);
}

TEST(Sdk, FrozenSizesCoverTheFieldsOfTheFirstRelease) {
    EXPECT_EQ(DMC_PLUGIN_SIZE_V1, offsetof(dmc_plugin, deploy) + sizeof(void*));
    EXPECT_LT(DMC_PLUGIN_SIZE_V1, sizeof(dmc_plugin));                // options was appended
    EXPECT_LT(DMC_CONFIGURE_CTX_SIZE_V1, sizeof(dmc_configure_ctx));  // glob was appended
    EXPECT_EQ(DMC_HOST_SIZE_V1, sizeof(dmc_host));
}

}  // namespace
