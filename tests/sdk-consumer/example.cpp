// An example template as a third party would write it: options with defaults, a
// configuration file kept next to the source and embedded by dmc_add_template(FILES).
#include <dmc/sdk.hpp>

#include "template_files.hpp"

namespace {

class Example : public dmc::sdk::Template {
  public:
    static constexpr dmc::sdk::Option options[] = {
        {"greeting", "hello from the example", "what the example says"}, {}};

    void prepare(dmc::sdk::Prepare& p) override {
        p.log(dmc::sdk::Level::notice, "example prepare hook ran for " + p.arch() + ": " +
                                           p.option("greeting").value_or("(no default)"));
        p.package("hello");
    }
    void collect(dmc::sdk::Collect& c) override {
        c.log(dmc::sdk::Level::notice, "example collect hook ran");
        c.path("/usr/bin/hello");
    }
    void configure(dmc::sdk::Configure& c) override {
        c.log(dmc::sdk::Level::notice, "example configure hook ran");
        c.file("/etc/example.conf",
               dmc::sdk::substitute(std::string(dmc_files::example_conf),
                                    {{"@GREETING@", c.option("greeting").value_or("")}}));
        c.entrypoint({"/usr/bin/hello"});
    }
};

}  // namespace

DMC_TEMPLATE(Example, "example", "0.1", "extra", "An example template built out of tree", "nginx")
