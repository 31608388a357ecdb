// The templates of the tests that keep images current, one plugin each from this
// file: TEMPLATE_NAME takes the package TEMPLATE_NAME-bin and its /usr/bin program,
// and builds on BUILDS_ON when that is set.
#include <dmc/sdk.hpp>

namespace {
class Current : public dmc::sdk::Template {
    void prepare(dmc::sdk::Prepare& p) override { p.package(TEMPLATE_NAME "-bin"); }
    void collect(dmc::sdk::Collect& c) override {
        c.path("/usr/bin/" TEMPLATE_NAME);
        c.path("/usr/share/" TEMPLATE_NAME);
    }
    void configure(dmc::sdk::Configure& c) override { c.entrypoint({"/usr/bin/" TEMPLATE_NAME}); }
};
}  // namespace

DMC_TEMPLATE(Current, TEMPLATE_NAME, TEMPLATE_VERSION, "current", "a test image kept current",
             BUILDS_ON)
