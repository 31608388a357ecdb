#include "elf/elf_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <tuple>

#include "elf_fixture.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc {
namespace {

using test::ElfLayout;
using test::ElfSpec;
using test::make_elf;

const char* const kHostLibc = "/lib/x86_64-linux-gnu/libc.so.6";
// The tests that read this machine's own binaries know amd64's names: elsewhere they skip.
#if defined(__x86_64__)
#define SKIP_UNLESS_X86_64()
#else
#define SKIP_UNLESS_X86_64() GTEST_SKIP() << "reads x86-64 host binaries; this host is another arch"
#endif
const char* const kHostLoader = "/lib64/ld-linux-x86-64.so.2";

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

bool same_info(const ElfInfo& a, const ElfInfo& b) {
    return a.elf_class == b.elf_class && a.little_endian == b.little_endian &&
           a.machine == b.machine && a.machine_name == b.machine_name && a.type == b.type &&
           a.flags == b.flags && a.interpreter == b.interpreter && a.needed == b.needed &&
           a.soname == b.soname && a.rpath == b.rpath && a.runpath == b.runpath &&
           a.dynamic == b.dynamic;
}

// Every prefix of `bytes` (up to `limit`) must parse without crashing, and give
// either a failure or exactly what the whole file gives: a cut never yields a
// wrong answer silently.
void expect_prefixes_safe(const std::string& bytes, std::size_t limit) {
    Result<ElfInfo> whole = parse_elf(bytes);
    for (std::size_t length = 0; length <= std::min(limit, bytes.size()); ++length) {
        Result<ElfInfo> part = parse_elf(std::string_view(bytes).substr(0, length));
        if (part.ok()) {
            ASSERT_TRUE(whole.ok()) << "prefix " << length;
            EXPECT_TRUE(same_info(part.value(), whole.value())) << "prefix " << length;
        } else {
            EXPECT_FALSE(part.error().empty());
        }
    }
}

TEST(ElfFile, ReadsTheHostsLs) {
    SKIP_UNLESS_X86_64();
    Result<ElfInfo> ls = read_elf("/bin/ls");
    ASSERT_TRUE(ls.ok()) << ls.error();
    EXPECT_EQ(ls->elf_class, 64);
    EXPECT_TRUE(ls->little_endian);
    EXPECT_EQ(ls->machine, 62);
    EXPECT_EQ(ls->machine_name, "x86_64");
    EXPECT_EQ(ls->interpreter, "/lib64/ld-linux-x86-64.so.2");
    EXPECT_TRUE(ls->dynamic);
    EXPECT_NE(std::find(ls->needed.begin(), ls->needed.end(), "libc.so.6"), ls->needed.end());
    EXPECT_FALSE(ls->soname);
}

TEST(ElfFile, ReadsTheHostsLibcAndLoader) {
    SKIP_UNLESS_X86_64();
    Result<ElfInfo> libc = read_elf(kHostLibc);
    ASSERT_TRUE(libc.ok()) << libc.error();
    EXPECT_EQ(libc->soname, "libc.so.6");
    EXPECT_EQ(libc->type, 3);
    EXPECT_NE(std::find(libc->needed.begin(), libc->needed.end(), "ld-linux-x86-64.so.2"),
              libc->needed.end());

    Result<ElfInfo> loader = read_elf(kHostLoader);
    ASSERT_TRUE(loader.ok()) << loader.error();
    EXPECT_EQ(loader->soname, "ld-linux-x86-64.so.2");
    EXPECT_TRUE(loader->needed.empty());
    EXPECT_TRUE(loader->interpreter.empty());
    EXPECT_TRUE(same_abi(libc.value(), loader.value()));
}

TEST(ElfFile, IsElfLooksAtTheMagicOfRegularFilesOnly) {
    SKIP_UNLESS_X86_64();
    EXPECT_TRUE(is_elf("/bin/ls"));
    EXPECT_TRUE(is_elf(kHostLibc));
    EXPECT_FALSE(is_elf("/etc/passwd"));
    EXPECT_FALSE(is_elf("/no/such/file"));
    EXPECT_FALSE(is_elf("/usr/bin"));
    EXPECT_FALSE(is_elf("/dev/null"));
}

TEST(ElfFile, ReadFailuresNameTheFile) {
    Result<ElfInfo> missing = read_elf("/no/such/file");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().find("/no/such/file"), std::string::npos);
    Result<ElfInfo> text = read_elf("/etc/passwd");
    ASSERT_FALSE(text.ok());
    EXPECT_NE(text.error().find("/etc/passwd: not an ELF file"), std::string::npos);
    EXPECT_FALSE(read_elf("/usr/bin").ok());
    EXPECT_FALSE(read_elf("/dev/null").ok());  // not a regular file

    TempDir dir("dmc-elf-test");
    test::write_bytes(dir.path() / "empty", "");
    EXPECT_FALSE(read_elf(dir.path() / "empty").ok());
}

TEST(ElfFile, ReadsASynthesizedFileFromDisk) {
    TempDir dir("dmc-elf-test");
    ElfSpec spec;
    spec.needed = {"libz.so.1"};
    test::write_bytes(dir.path() / "lib.so", make_elf(spec));
    Result<ElfInfo> info = read_elf(dir.path() / "lib.so");
    ASSERT_TRUE(info.ok()) << info.error();
    EXPECT_EQ(info->needed, std::vector<std::string>{"libz.so.1"});
}

// Class, byte order, machine, expected machine name.
using Flavour = std::tuple<int, bool, uint16_t, std::string>;

class SynthesizedElf : public ::testing::TestWithParam<Flavour> {
  protected:
    ElfSpec spec() const {
        const auto& [elf_class, little, machine, name] = GetParam();
        ElfSpec s;
        s.elf_class = elf_class;
        s.little_endian = little;
        s.machine = machine;
        s.interpreter = "/lib/ld-linux-test.so.1";
        s.needed = {"libfoo.so.1", "libbar.so.2"};
        s.soname = "libself.so.3";
        s.rpath = "/opt/r1::$ORIGIN/../r2";
        s.runpath = "${ORIGIN}/lib:/opt/run";
        return s;
    }
};

TEST_P(SynthesizedElf, ParsesEveryField) {
    const auto& [elf_class, little, machine, name] = GetParam();
    for (bool sections : {false, true}) {
        ElfSpec s = spec();
        s.section_headers = sections;
        Result<ElfInfo> info = parse_elf(make_elf(s));
        ASSERT_TRUE(info.ok()) << info.error();
        EXPECT_EQ(info->elf_class, elf_class);
        EXPECT_EQ(info->little_endian, little);
        EXPECT_EQ(info->machine, machine);
        EXPECT_EQ(info->machine_name, name);
        EXPECT_EQ(info->type, 3);
        EXPECT_EQ(info->interpreter, "/lib/ld-linux-test.so.1");
        EXPECT_EQ(info->needed, (std::vector<std::string>{"libfoo.so.1", "libbar.so.2"}));
        EXPECT_EQ(info->soname, "libself.so.3");
        EXPECT_EQ(info->rpath, (std::vector<std::string>{"/opt/r1", "$ORIGIN/../r2"}));
        EXPECT_EQ(info->runpath, (std::vector<std::string>{"${ORIGIN}/lib", "/opt/run"}));
        EXPECT_TRUE(info->dynamic);
    }
}

TEST_P(SynthesizedElf, FallsBackToSectionHeaders) {
    // DT_STRTAB points nowhere in the file: the SHT_DYNAMIC's linked section
    // still gives the strings.
    ElfSpec s = spec();
    s.section_headers = true;
    s.strtab_mapped = false;
    Result<ElfInfo> info = parse_elf(make_elf(s));
    ASSERT_TRUE(info.ok()) << info.error();
    EXPECT_EQ(info->needed, (std::vector<std::string>{"libfoo.so.1", "libbar.so.2"}));

    // No PT_DYNAMIC at all: the section is the only way to the dynamic entries.
    s.program_dynamic = false;
    info = parse_elf(make_elf(s));
    ASSERT_TRUE(info.ok()) << info.error();
    EXPECT_TRUE(info->dynamic);
    EXPECT_EQ(info->soname, "libself.so.3");

    // Without section headers there is nothing to fall back to.
    s.program_dynamic = true;
    s.section_headers = false;
    info = parse_elf(make_elf(s));
    ASSERT_FALSE(info.ok());
    EXPECT_NE(info.error().find("string table"), std::string::npos);
}

TEST_P(SynthesizedElf, StaticFilesHaveNoDynamicInformation) {
    ElfSpec s = spec();
    s.dynamic = false;
    s.interpreter.clear();
    s.type = 2;
    Result<ElfInfo> info = parse_elf(make_elf(s));
    ASSERT_TRUE(info.ok()) << info.error();
    EXPECT_FALSE(info->dynamic);
    EXPECT_TRUE(info->needed.empty());
    EXPECT_TRUE(info->interpreter.empty());
    EXPECT_EQ(info->type, 2);
}

TEST_P(SynthesizedElf, EveryPrefixFailsOrGivesTheSameAnswer) {
    for (bool sections : {false, true}) {
        ElfSpec s = spec();
        s.section_headers = sections;
        const std::string bytes = make_elf(s);
        expect_prefixes_safe(bytes, bytes.size());
        // Without section headers the file ends with its dynamic section, so
        // every cut loses something the answer needs and must fail.
        if (sections) continue;
        for (std::size_t length = 0; length < bytes.size(); ++length) {
            EXPECT_FALSE(parse_elf(std::string_view(bytes).substr(0, length)).ok()) << length;
        }
    }
}

TEST_P(SynthesizedElf, RandomCorruptionNeverCrashes) {
    ElfSpec s = spec();
    s.section_headers = true;
    const std::string pristine = make_elf(s);
    std::mt19937 random(1234);
    for (int round = 0; round < 3000; ++round) {
        std::string bytes = pristine;
        const int flips = 1 + static_cast<int>(random() % 8);
        for (int i = 0; i < flips; ++i) {
            const std::size_t at = random() % bytes.size();
            switch (random() % 3) {
                case 0:
                    bytes[at] = static_cast<char>(random());
                    break;
                case 1:
                    bytes[at] = static_cast<char>(0xff);
                    break;
                default:
                    bytes[at] ^= static_cast<char>(1u << (random() % 8));
                    break;
            }
        }
        Result<ElfInfo> info = parse_elf(bytes);
        if (!info.ok()) {
            EXPECT_FALSE(info.error().empty());
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Flavours, SynthesizedElf,
                         ::testing::Values(Flavour{64, true, test::kEmX86_64, "x86_64"},
                                           Flavour{64, true, test::kEmAarch64, "aarch64"},
                                           Flavour{32, true, test::kEmArm, "arm"},
                                           Flavour{32, true, test::kEmI386, "i386"},
                                           Flavour{64, false, test::kEmPpc64, "ppc64"},
                                           Flavour{64, true, test::kEmPpc64, "ppc64le"},
                                           Flavour{64, false, test::kEmS390, "s390x"},
                                           Flavour{64, true, test::kEmRiscv, "riscv64"},
                                           Flavour{32, false, test::kEmArm, "arm"},
                                           Flavour{64, true, 4242, "machine-4242"}));

TEST(ElfFile, EveryPrefixOfARealBinaryIsSafe) {
    const std::string ls = slurp("/bin/true");
    ASSERT_GT(ls.size(), 4096u);
    expect_prefixes_safe(ls, 4096);
    // A real binary's dynamic section lies further in: short prefixes all fail.
    EXPECT_FALSE(parse_elf(std::string_view(ls).substr(0, 4096)).ok());
    EXPECT_TRUE(parse_elf(ls).ok());
}

TEST(ElfFile, RejectsBadIdentification) {
    EXPECT_EQ(parse_elf("").error(), "too short for an ELF header");
    EXPECT_EQ(parse_elf(std::string(64, '\0')).error(), "not an ELF file");
    std::string bytes = make_elf(ElfSpec{});
    bytes[4] = 3;
    EXPECT_NE(parse_elf(bytes).error().find("class"), std::string::npos);
    bytes = make_elf(ElfSpec{});
    bytes[5] = 0;
    EXPECT_NE(parse_elf(bytes).error().find("encoding"), std::string::npos);
    bytes = make_elf(ElfSpec{});
    bytes[6] = 2;
    EXPECT_NE(parse_elf(bytes).error().find("version"), std::string::npos);
}

// Corruptions of one field of a synthesized file, which must all fail cleanly.
class CorruptField : public ::testing::TestWithParam<int> {
  protected:
    void SetUp() override {
        spec_.elf_class = GetParam();
        spec_.interpreter = "/lib/ld.so";
        spec_.needed = {"liba.so", "libb.so"};
        spec_.section_headers = true;
        bytes_ = make_elf(spec_, &layout_);
        is64_ = GetParam() == 64;
        word_ = is64_ ? 8 : 4;
    }
    void put(std::size_t offset, uint64_t value, std::size_t width) {
        test::ElfWriter::put_value(bytes_, offset, value, width, true);
    }
    // Offsets of header fields and of the fields of program header `i`.
    std::size_t phoff_field() const { return 24 + word_; }
    std::size_t shoff_field() const { return 24 + 2 * word_; }
    std::size_t phnum_field() const { return 24 + 3 * word_ + 8; }
    std::size_t phentsize_field() const { return 24 + 3 * word_ + 6; }
    std::size_t shnum_field() const { return 24 + 3 * word_ + 12; }
    std::size_t ph(std::size_t i) const { return layout_.phoff + i * (is64_ ? 56 : 32); }
    std::size_t p_offset(std::size_t i) const { return ph(i) + (is64_ ? 8 : 4); }
    std::size_t p_vaddr(std::size_t i) const { return p_offset(i) + word_; }
    std::size_t p_filesz(std::size_t i) const { return p_offset(i) + 3 * word_; }
    // Dynamic entry `i`: tag, then value.
    std::size_t dyn(std::size_t i) const { return layout_.dynamic + i * 2 * word_; }

    std::string error() {
        Result<ElfInfo> info = parse_elf(bytes_);
        return info.ok() ? "" : info.error();
    }

    ElfSpec spec_;
    ElfLayout layout_;
    std::string bytes_;
    bool is64_ = true;
    std::size_t word_ = 8;
};

TEST_P(CorruptField, TheSynthesizedFileIsValid) { ASSERT_EQ(error(), ""); }

TEST_P(CorruptField, ProgramHeaderTableOutsideTheFile) {
    put(phoff_field(), is64_ ? UINT64_MAX - 8 : UINT32_MAX - 8, word_);
    EXPECT_NE(error(), "");
}

TEST_P(CorruptField, HugeProgramHeaderCount) {
    put(phnum_field(), 0xfffe, 2);
    EXPECT_NE(error(), "");
    // PN_XNUM takes the count from section 0's sh_info: make it huge.
    put(phnum_field(), 0xffff, 2);
    const std::size_t sh_info = layout_.shoff + 8 + 4 * word_ + 4;
    put(sh_info, UINT32_MAX, 4);
    EXPECT_NE(error(), "");
}

TEST_P(CorruptField, ProgramHeaderEntriesTooSmall) {
    put(phentsize_field(), 8, 2);
    EXPECT_NE(error(), "");
}

TEST_P(CorruptField, HugeSectionCountsAndOffsetsAreHarmless) {
    // The sections are not needed here: garbage in them must not matter...
    put(shnum_field(), 0, 2);
    put(layout_.shoff + 8 + 3 * word_, is64_ ? UINT64_MAX : UINT32_MAX, word_);  // sh_size of [0]
    EXPECT_EQ(error(), "");
    put(shoff_field(), is64_ ? UINT64_MAX : UINT32_MAX, word_);
    EXPECT_EQ(error(), "");
}

TEST_P(CorruptField, InterpreterOutsideTheFileOrUnterminated) {
    put(p_offset(1), is64_ ? UINT64_MAX - 2 : UINT32_MAX - 2, word_);
    EXPECT_NE(error().find("PT_INTERP"), std::string::npos);
    SetUp();
    put(p_filesz(1), is64_ ? UINT64_MAX : UINT32_MAX, word_);
    EXPECT_NE(error().find("PT_INTERP"), std::string::npos);
    SetUp();
    bytes_[layout_.interp + spec_.interpreter.size()] = 'x';      // the NUL
    bytes_[layout_.interp + spec_.interpreter.size() + 1] = 'x';  // the string table's NUL
    put(p_filesz(1), spec_.interpreter.size() + 1, word_);
    EXPECT_NE(error().find("PT_INTERP"), std::string::npos);
}

TEST_P(CorruptField, DynamicSegmentOutsideTheFile) {
    put(p_filesz(2), is64_ ? UINT64_MAX / 2 : UINT32_MAX / 2, word_);
    EXPECT_NE(error().find("PT_DYNAMIC"), std::string::npos);
    SetUp();
    put(p_offset(2), is64_ ? UINT64_MAX - 8 : UINT32_MAX - 8, word_);
    EXPECT_NE(error().find("PT_DYNAMIC"), std::string::npos);
}

TEST_P(CorruptField, StringOffsetsOutsideTheStringTable) {
    put(dyn(0) + word_, is64_ ? UINT64_MAX : UINT32_MAX, word_);  // DT_NEEDED value
    EXPECT_NE(error(), "");
    SetUp();
    put(dyn(0) + word_, layout_.dynstr_size, word_);  // one past the end
    EXPECT_NE(error(), "");
}

TEST_P(CorruptField, HugeStringTableSizeIsClampedToTheFile) {
    // DT_STRSZ (entry 3, after the two DT_NEEDED and DT_STRTAB) claims far
    // more than the file holds: strings are still read within the file.
    put(dyn(3) + word_, is64_ ? UINT64_MAX : UINT32_MAX, word_);
    EXPECT_EQ(error(), "");
    // A string table address near the top of the address space.
    put(dyn(2) + word_, is64_ ? UINT64_MAX - 1 : UINT32_MAX - 1, word_);
    const std::string message = error();
    EXPECT_EQ(message, "");  // found again through the section headers
    put(layout_.shoff + 2 * (is64_ ? 64 : 40) + 8 + 4 * word_, 77, 4);  // .dynamic's sh_link
    EXPECT_NE(error(), "");
}

TEST_P(CorruptField, UnterminatedStringAtTheEndOfTheTable) {
    // Shrink DT_STRSZ so that the last string loses its NUL.
    put(dyn(3) + word_, layout_.dynstr_size - 1, word_);
    EXPECT_NE(error().find("unterminated"), std::string::npos);
}

TEST_P(CorruptField, LoadSegmentWithHugeOffset) {
    put(p_offset(0), is64_ ? UINT64_MAX - 4 : UINT32_MAX - 4, word_);
    put(p_filesz(0), is64_ ? UINT64_MAX : UINT32_MAX, word_);
    put(p_vaddr(0), 0, word_);
    // DT_STRTAB is no longer mapped by the PT_LOAD: the sections give it.
    EXPECT_EQ(error(), "");
}

TEST_P(CorruptField, DynamicTableWithoutTerminatorStopsAtItsEnd) {
    // Replace DT_NULL by another DT_NEEDED: the table ends with the segment.
    put(dyn(4), 1, word_);
    put(dyn(4) + word_, 1, word_);
    Result<ElfInfo> info = parse_elf(bytes_);
    ASSERT_TRUE(info.ok()) << info.error();
    EXPECT_EQ(info->needed.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Classes, CorruptField, ::testing::Values(32, 64));

TEST(SameAbi, ComparesMachineClassAndByteOrder) {
    auto info = [](int elf_class, bool little, uint16_t machine, uint32_t flags = 0) {
        ElfSpec s;
        s.elf_class = elf_class;
        s.little_endian = little;
        s.machine = machine;
        s.flags = flags;
        return parse_elf(make_elf(s)).value();
    };
    const ElfInfo amd64 = info(64, true, test::kEmX86_64);
    EXPECT_TRUE(same_abi(amd64, amd64));
    EXPECT_FALSE(same_abi(amd64, info(64, true, test::kEmAarch64)));
    EXPECT_FALSE(same_abi(amd64, info(32, true, test::kEmX86_64)));  // x32
    EXPECT_FALSE(same_abi(info(64, false, test::kEmPpc64), info(64, true, test::kEmPpc64)));
    EXPECT_FALSE(same_abi(info(32, true, test::kEmI386), amd64));

    // armhf and armel share a machine number; the EABI float flags differ.
    const ElfInfo armhf = info(32, true, test::kEmArm, 0x05000400);
    const ElfInfo armel = info(32, true, test::kEmArm, 0x05000200);
    const ElfInfo arm_unflagged = info(32, true, test::kEmArm, 0x05000000);
    EXPECT_TRUE(same_abi(armhf, armhf));
    EXPECT_FALSE(same_abi(armhf, armel));
    EXPECT_TRUE(same_abi(armhf, arm_unflagged));
}

}  // namespace
}  // namespace dmc
