#include "rootfs/store_ahead.hpp"

#include "rootfs/unpack.hpp"
#include "util/error.hpp"
#include "util/parallel.hpp"

namespace fs = std::filesystem;

namespace dmc::rootfs {

void StoreAhead::start(const fs::path& store, std::vector<Package> packages) {
    if (started_ || packages.empty()) return;
    started_ = true;
    thread_ = std::thread([this, store, packages = std::move(packages)] {
        run_as_background();
        const auto in_use = store_in_use(store);
        for (const auto& p : packages) {
            if (stop_) break;
            if (p.image <= reached_) continue;
            try {
                store_deb(p.deb, store, p.sha256, p.name);
                ++stored_;
            } catch (const Error&) {
                // The image's own rootfs step meets it again and reports it.
            }
        }
    });
}

void StoreAhead::reached(std::size_t image) {
    std::size_t was = reached_;
    while (was < image && !reached_.compare_exchange_weak(was, image)) {
    }
}

std::size_t StoreAhead::finish(bool stop) {
    if (stop) stop_ = true;
    if (thread_.joinable()) thread_.join();
    return stored_;
}

}  // namespace dmc::rootfs
