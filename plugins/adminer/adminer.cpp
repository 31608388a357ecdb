// Adminer on nginx and php-fpm, in one image.
#include <dmc/sdk.hpp>

namespace {

class Adminer : public dmc::sdk::Template {
public:
    void prepare(dmc::sdk::Prepare& p) override { p.package("adminer"); }

    void collect(dmc::sdk::Collect& c) override { c.path("/usr/share/adminer"); }

    void configure(dmc::sdk::Configure& c) override {
        c.expose("8080/tcp");
        c.workdir("/usr/share/adminer");
    }
};

}  // namespace

DMC_TEMPLATE(Adminer, "adminer", "1.0", "app", "Adminer database manager on nginx and php-fpm",
             "php", "nginx")
