// The template of the maintainer-script effects test: its packages, program and
// pinned alternatives all come from options, so one plugin builds every case.
//   packages  the packages to take, blank-separated
//   program   the program to collect and run
//   paths     more paths to collect, blank-separated
//   users     system users of the packages to add to the image, blank-separated
//   user      the user the program runs as
//   pin       NAME=PATH: the alternative NAME resolved to PATH ("@MULTIARCH@" in
//             either is the arch's triplet)
#include <dmc/sdk.hpp>
#include <sstream>

namespace {
class Effects : public dmc::sdk::Template {
    void prepare(dmc::sdk::Prepare& p) override {
        std::istringstream names(p.option("packages").value_or(""));
        for (std::string name; names >> name;) p.package(name);
        if (auto option = p.option("pin")) {
            const std::string pin = dmc::sdk::substitute(*option, {{"@MULTIARCH@", p.multiarch()}});
            const auto eq = pin.find('=');
            p.alternative(pin.substr(0, eq), eq == std::string::npos ? "" : pin.substr(eq + 1));
        }
    }
    void collect(dmc::sdk::Collect& c) override {
        c.path(program(c));
        std::istringstream paths(c.option("paths").value_or(""));
        for (std::string path; paths >> path;) c.path(path);
    }
    void configure(dmc::sdk::Configure& c) override {
        std::istringstream users(c.option("users").value_or(""));
        for (std::string user; users >> user;) c.system_user(user);
        if (auto user = c.option("user")) c.run_as(*user);
        c.entrypoint({program(c)});
    }
    static std::string program(const dmc::sdk::Context& c) {
        return c.option("program").value_or("/usr/bin/demo-tool");
    }
};
}  // namespace

DMC_TEMPLATE(Effects, "effects", "1.0", "effects", "the maintainer-script effects test's image")
