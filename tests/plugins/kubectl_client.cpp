// kubectl from Debian's archive, fetched and unpacked by dmc's own archive client
// (`-e kubectl.ARCH.rootfs`): the tests use it as an independent Kubernetes client.
#include <dmc/sdk.hpp>

namespace {
class Kubectl : public dmc::sdk::Template {
    void prepare(dmc::sdk::Prepare& p) override { p.package("kubectl"); }
    void collect(dmc::sdk::Collect& c) override { c.path("/usr/bin/kubectl"); }
    void configure(dmc::sdk::Configure& c) override { c.entrypoint({"/usr/bin/kubectl"}); }
};
}  // namespace

DMC_TEMPLATE(Kubectl, "kubectl", "1.0", "clients", "kubectl, for the tests")
