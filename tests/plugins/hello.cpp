// An external template that joins the app group and builds on nginx. Its hooks
// log, read settings and throw, so the tests see both sides of the boundary.
#include <dmc/sdk.hpp>
#include <stdexcept>

namespace {
class Hello : public dmc::sdk::Template {
    void prepare(dmc::sdk::Prepare& p) override {
        if (p.option("fail").value_or("") == "prepare") throw std::runtime_error("asked to fail");
        p.log(dmc::sdk::Level::notice, "hello prepares for " + p.arch());
        p.package("hello");
        p.exclude("hello-doc");
    }
    void collect(dmc::sdk::Collect& c) override {
        c.path("/usr/bin/hello");
        if (auto setid = c.option("setid")) c.allow_setid(*setid);
    }
    void configure(dmc::sdk::Configure& c) override {
        c.file("/etc/hello.conf", "greeting=" + c.option("greeting").value_or("hi") + "\n");
        c.entrypoint({"/usr/bin/hello"});
        c.env("LANG", "C.UTF-8");
        c.label("org.example.hello", c.dist());
        std::string found;
        for (const auto& path : c.glob("/usr/share/hello/*.txt")) found += path + ";";
        if (!found.empty()) c.file("/etc/hello.found", found);
    }
};
}  // namespace

DMC_TEMPLATE(Hello, "hello", "2.0", "app", "GNU hello, greeting the world", "nginx")
