// An example template as a third party would write it.
#include <dmc/sdk.hpp>

namespace {

class Example : public dmc::sdk::Template {
  public:
    void prepare(dmc::sdk::Prepare& p) override {
        p.log(dmc::sdk::Level::notice, "example prepare hook ran for " + p.arch());
        p.package("hello");
    }
    void collect(dmc::sdk::Collect& c) override {
        c.log(dmc::sdk::Level::notice, "example collect hook ran");
        c.path("/usr/bin/hello");
    }
    void configure(dmc::sdk::Configure& c) override {
        c.log(dmc::sdk::Level::notice, "example configure hook ran");
        c.entrypoint({"/usr/bin/hello"});
    }
};

}  // namespace

DMC_TEMPLATE(Example, "example", "0.1", "extra", "An example template built out of tree", "nginx")
