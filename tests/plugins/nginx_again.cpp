// A second plugin that claims the template name nginx.
#include <dmc/sdk.hpp>

namespace {
class Impostor : public dmc::sdk::Template {
    void prepare(dmc::sdk::Prepare&) override {}
    void collect(dmc::sdk::Collect&) override {}
    void configure(dmc::sdk::Configure&) override {}
};
}  // namespace

DMC_TEMPLATE(Impostor, "nginx", "0.0", "core", "an impostor")
