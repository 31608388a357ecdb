// A client from Debian's archive, fetched and unpacked by dmc's own archive client
// (`-e NAME.ARCH.rootfs`): the tests use kubectl, cosign and oras as independent
// clients of what dmc writes. Built once per client, with CLIENT naming the
// package and its /usr/bin program.
#include <dmc/sdk.hpp>

namespace {
class Client : public dmc::sdk::Template {
    void prepare(dmc::sdk::Prepare& p) override { p.package(CLIENT); }
    void collect(dmc::sdk::Collect& c) override { c.path("/usr/bin/" CLIENT); }
    void configure(dmc::sdk::Configure& c) override { c.entrypoint({"/usr/bin/" CLIENT}); }
};
}  // namespace

DMC_TEMPLATE(Client, CLIENT, "1.0", "clients", CLIENT ", for the tests")
