// A plugin whose template name would lead out of the image directory.
#include <dmc/sdk.hpp>

namespace {
class Escaper : public dmc::sdk::Template {
    void prepare(dmc::sdk::Prepare&) override {}
    void collect(dmc::sdk::Collect&) override {}
    void configure(dmc::sdk::Configure&) override {}
};
}  // namespace

DMC_TEMPLATE(Escaper, "../escaped", "1.0", "app", "a name with a path in it")
