// Packages stored ahead: while a run packs one image, the packages the next images
// will need are unpacked into the package store on a core the run leaves idle, so
// that their rootfs steps find them stored (store_deb reads a stored package no
// more). Work the run then does itself costs nothing twice: each package is
// skipped once the run's own rootfs step has come to its image.
#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace dmc::rootfs {

class StoreAhead {
  public:
    struct Package {
        std::size_t image = 0;  // the place of the image that needs it, in the run's order
        std::string name, sha256;
        std::filesystem::path deb;
    };
    StoreAhead() = default;
    StoreAhead(const StoreAhead&) = delete;
    StoreAhead& operator=(const StoreAhead&) = delete;
    ~StoreAhead() { finish(); }

    // Starts storing `packages` (in their order) into `store`, at the lowest
    // priority; once only.
    void start(const std::filesystem::path& store, std::vector<Package> packages);
    bool started() const { return started_; }
    // The run's own rootfs step is at `image`: the packages of it and of the images
    // before it are the run's.
    void reached(std::size_t image);
    // Stops, and waits for the package being stored (or, with `stop` false, for all
    // of them); returns how many were stored.
    std::size_t finish(bool stop = true);

  private:
    bool started_ = false;
    std::atomic<std::size_t> reached_{0};
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> stored_{0};
    std::thread thread_;
};

}  // namespace dmc::rootfs
