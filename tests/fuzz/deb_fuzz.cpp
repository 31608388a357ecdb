// The .deb path: ar, then the control and data tars in every compression Debian
// uses, unpacked into a root of its own. Whatever the input, unpack_deb gives a
// manifest or a dmc::Error, and nothing appears beside the root.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz.hpp"
#include "rootfs/manifest.hpp"
#include "rootfs/unpack.hpp"

namespace fs = std::filesystem;

namespace {

// One scratch directory per process: <tmp>/dmc-deb-fuzz-<pid>/{in.deb,root}.
const fs::path& scratch() {
    static const fs::path dir = [] {
        const fs::path d = fs::temp_directory_path() / ("dmc-deb-fuzz-" + std::to_string(getpid()));
        fs::remove_all(d);
        fs::create_directories(d / "sandbox");
        return d;
    }();
    return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    using namespace dmc;
    const fs::path deb = scratch() / "in.deb";
    const fs::path sandbox = scratch() / "sandbox";
    const fs::path root = sandbox / "root";
    {
        std::ofstream out(deb, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    rootfs::Manifest manifest;
    rootfs::UnpackLimits limits;
    limits.package_bytes = 1 << 20;  // a bomb stops at 1 MiB instead of filling the disk
    fuzz::accepted([&] { rootfs::unpack_deb(deb, root, "fuzz", manifest, limits); });
    for (const auto& [path, record] : manifest.files) {
        fuzz::check(!path.empty() && path[0] == '/', "a manifest path that is not absolute");
        fuzz::check(path.find("/../") == std::string::npos, "a manifest path with ..");
        fuzz::touch(record.link + record.sha256);
    }
    for (const auto& entry : fs::directory_iterator(sandbox))
        fuzz::check(entry.path() == root, "the .deb wrote beside its root");
    fs::remove_all(root);
    return 0;
}
