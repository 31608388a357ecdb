#include "arch/arch.hpp"

#include "config/settings.hpp"
#include "util/error.hpp"

namespace dmc::arch {

const std::vector<ArchInfo>& known_archs() {
    static const std::vector<ArchInfo> archs = {
        {"amd64", "amd64", "", "x86_64-linux-gnu", "x86_64", "qemu-x86_64-static", 0x0303},
        {"arm64", "arm64", "v8", "aarch64-linux-gnu", "aarch64", "qemu-aarch64-static", 0x0a03},
        {"armhf", "arm", "v7", "arm-linux-gnueabihf", "arm", "qemu-arm-static", 0x0903},
        {"armel", "arm", "v5", "arm-linux-gnueabi", "arm", "qemu-arm-static", 0x0b03},
        {"i386", "386", "", "i386-linux-gnu", "i386", "qemu-i386-static", 0x0003},
        {"ppc64el", "ppc64le", "", "powerpc64le-linux-gnu", "ppc64", "qemu-ppc64le-static", 0x0503},
        {"s390x", "s390x", "", "s390x-linux-gnu", "s390x", "qemu-s390x-static", 0x0403},
        {"riscv64", "riscv64", "", "riscv64-linux-gnu", "riscv64", "qemu-riscv64-static", 0x1003},
    };
    return archs;
}

const ArchInfo& arch_info(const std::string& debian_arch) {
    for (const auto& a : known_archs())
        if (a.debian == debian_arch) return a;
    std::vector<std::string> valid;
    for (const auto& a : known_archs()) valid.push_back(a.debian);
    throw UsageError("unknown architecture '" + debian_arch +
                     "'; valid architectures: " + config::join(valid, ", "));
}

void check_archs(const std::vector<std::string>& archs) {
    if (archs.empty())
        throw UsageError("no architecture selected; pass -A amd64,arm64 for example");
    for (const auto& a : archs) arch_info(a);
}

}  // namespace dmc::arch
