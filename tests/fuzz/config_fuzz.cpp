// What users write: the YAML config (apply_yaml over the defaults) and the lock file
// dmc.lock. Either is read into settings / a lock, or refused with a dmc::Error that
// names the file and line. A lock that parses renders to a text that parses to the
// same lock.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/settings.hpp"
#include "fuzz.hpp"
#include "lock/lock.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using namespace dmc;
    const std::string text(reinterpret_cast<const char*>(data), size);
    fuzz::accepted([&] {
        config::Settings s = config::defaults();
        config::apply_yaml(s, text, "dmc.yaml");
        config::finalize(s);
    });
    fuzz::accepted([&] {
        const lock::Lock lock = lock::Lock::parse(text, "dmc.lock");
        const std::string again = lock.render();
        fuzz::check(lock::Lock::parse(again, "rendered").render() == again,
                    "a parsed lock does not render to itself");
    });
    return 0;
}
