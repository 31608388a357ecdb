// The ELF reader (the packages' binaries and libraries): parse_elf must turn
// any input into a value or a failure, without crashing, reading out of bounds
// or allocating wildly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "elf/elf_file.hpp"

namespace {

// Parses one input; whether it was accepted.
bool parse_one(std::string_view bytes) {
    const dmc::Result<dmc::ElfInfo> info = dmc::parse_elf(bytes);
    if (info.ok()) {
        // Read every string so that a bad one shows up under the sanitizers.
        const dmc::ElfInfo& elf = info.value();
        std::size_t total = elf.interpreter.size() + elf.machine_name.size();
        for (const auto* list : {&elf.needed, &elf.rpath, &elf.runpath})
            for (const std::string& s : *list) total += s.size();
        if (elf.soname) total += elf.soname->size();
        volatile std::size_t sink = total;
        (void)sink;
    }
    return info.ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    parse_one(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
