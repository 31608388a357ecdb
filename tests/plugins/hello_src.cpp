// A template that builds GNU-hello-like "hello" from a Debian source package, for
// the tests of fetching and verifying sources against an archive served here.
#include <dmc/sdk.hpp>

namespace {
class HelloSrc : public dmc::sdk::Template {
    void prepare(dmc::sdk::Prepare& p) override {
        p.package("base-files");
        p.source_package("hello", p.option("version").value_or(""));
        p.build_step("build", "make");
        p.build_step("install", "make install");
    }
    void collect(dmc::sdk::Collect& c) override { c.path("/usr/bin/hello"); }
    void configure(dmc::sdk::Configure& c) override { c.entrypoint({"/usr/bin/hello"}); }
};
}  // namespace

DMC_TEMPLATE(HelloSrc, "hello-src", "1.0", "source", "hello built from its Debian source")
