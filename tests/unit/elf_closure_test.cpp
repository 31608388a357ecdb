#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "elf/closure.hpp"
#include "elf/elf_file.hpp"
#include "elf_fixture.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc {
namespace {

using test::ElfSpec;
using Paths = std::vector<std::string>;

constexpr const char* kTriplet = "x86_64-linux-gnu";
constexpr const char* kLibDir = "/usr/lib/x86_64-linux-gnu";
constexpr const char* kInterpreter = "/lib64/ld-linux-x86-64.so.2";

bool contains(const Paths& paths, const std::string& path) {
    return std::find(paths.begin(), paths.end(), path) != paths.end();
}

// A Debian-like merged-/usr root with a loader and a libc, in which each test
// adds its programs and libraries.
class ClosureTest : public ::testing::Test {
  protected:
    void SetUp() override {
        link("/bin", "usr/bin");
        link("/lib", "usr/lib");
        link("/lib64", "usr/lib64");
        library(std::string(kLibDir) + "/ld-linux-x86-64.so.2", "ld-linux-x86-64.so.2", {});
        link("/usr/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
        library(std::string(kLibDir) + "/libc.so.6", "libc.so.6", {"ld-linux-x86-64.so.2"});
    }

    const fs::path& root() const { return temp_.path(); }

    void elf(const std::string& image_path, const ElfSpec& spec) {
        test::write_bytes(root() / image_path.substr(1), test::make_elf(spec));
    }
    void library(const std::string& image_path, const std::string& soname, Paths needed,
                 ElfSpec spec = {}) {
        spec.soname = soname;
        spec.needed = std::move(needed);
        elf(image_path, spec);
    }
    void program(const std::string& image_path, Paths needed, ElfSpec spec = {}) {
        spec.interpreter = kInterpreter;
        spec.needed = std::move(needed);
        elf(image_path, spec);
    }
    void link(const std::string& image_path, const std::string& target) {
        const fs::path host = root() / image_path.substr(1);
        fs::create_directories(host.parent_path());
        fs::create_symlink(target, host);
    }
    void text(const std::string& image_path, const std::string& content) {
        test::write_bytes(root() / image_path.substr(1), content);
    }

    ClosureRequest request(Paths roots, std::set<std::string> optional = {}) const {
        return ClosureRequest{root(), std::move(roots), std::move(optional), kTriplet, "haswell"};
    }
    ClosureResult closure(Paths roots) const { return resolve_closure(request(std::move(roots))); }

    // The message of the Error that resolving `roots` throws.
    std::string closure_error(Paths roots) const {
        try {
            resolve_closure(request(std::move(roots)));
        } catch (const Error& e) {
            return e.what();
        }
        return "no error";
    }

    TempDir temp_{"dmc-closure-test"};
};

TEST_F(ClosureTest, ProgramLibrariesInterpreterAndEverySymlinkOnTheWay) {
    program("/usr/bin/app", {"libfoo.so.1", "libc.so.6"});
    library(std::string(kLibDir) + "/libfoo.so.1.2.3", "libfoo.so.1", {"libc.so.6"});
    link(std::string(kLibDir) + "/libfoo.so.1", "libfoo.so.1.2.3");

    const ClosureResult result = closure({"/bin/app"});
    EXPECT_EQ(
        result.paths,
        (Paths{"/bin", "/lib", "/lib64", "/usr/bin/app",
               "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
               "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libfoo.so.1",
               "/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3", "/usr/lib64/ld-linux-x86-64.so.2"}));
    EXPECT_TRUE(result.warnings.empty());
}

TEST_F(ClosureTest, RunpathWithOriginIsRelativeToTheObject) {
    ElfSpec app;
    app.runpath = "$ORIGIN/../lib";
    program("/opt/app/bin/app", {"liba.so", "libc.so.6"}, app);
    ElfSpec liba;
    liba.runpath = "${ORIGIN}/../lib2";
    library("/opt/app/lib/liba.so", "liba.so", {"libb.so"}, liba);
    library("/opt/app/lib2/libb.so", "libb.so", {"libc.so.6"});

    const ClosureResult result = closure({"/opt/app/bin/app"});
    EXPECT_TRUE(contains(result.paths, "/opt/app/lib/liba.so"));
    EXPECT_TRUE(contains(result.paths, "/opt/app/lib2/libb.so"));
    EXPECT_TRUE(contains(result.paths, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
}

TEST_F(ClosureTest, ProgramOriginIsWhereItsFileIs) {
    // ld.so takes a program's $ORIGIN from /proc/self/exe, with links resolved.
    ElfSpec tool;
    tool.runpath = "$ORIGIN/../lib";
    program("/opt/tool/bin/tool", {"libtool.so"}, tool);
    link("/usr/bin/tool", "/opt/tool/bin/tool");
    library("/opt/tool/lib/libtool.so", "libtool.so", {});

    const ClosureResult result = closure({"/usr/bin/tool"});
    EXPECT_TRUE(contains(result.paths, "/usr/bin/tool"));
    EXPECT_TRUE(contains(result.paths, "/opt/tool/bin/tool"));
    EXPECT_TRUE(contains(result.paths, "/opt/tool/lib/libtool.so"));
}

TEST_F(ClosureTest, LdSoConfAndItsIncludes) {
    text("/etc/ld.so.conf",
         "include /etc/ld.so.conf.d/*.conf\n"
         "# a comment\n"
         "/opt/first/\n"
         "hwcap 0 nosegneg\n"
         "relative/dir\n");
    text("/etc/ld.so.conf.d/a.conf", "  /opt/special\t# vendor libraries\n");
    text("/etc/ld.so.conf.d/b.conf", "include ../more.conf\r\n/opt/special\r\n");  // CRLF
    text("/etc/ld.so.conf.d/.hidden.conf", "/opt/hidden\n");
    text("/etc/ld.so.conf.d/c.txt", "/opt/not-conf\n");
    text("/etc/more.conf", "/opt/more\ninclude /etc/ld.so.conf\n");  // a loop

    EXPECT_EQ(read_ld_so_conf(root()), (Paths{"/opt/special", "/opt/more", "/opt/first"}));

    program("/usr/bin/app", {"libspecial.so.1", "libmore.so.1"});
    library("/opt/special/libspecial.so.1", "libspecial.so.1", {});
    library("/opt/more/libmore.so.1", "libmore.so.1", {});
    const ClosureResult result = closure({"/usr/bin/app"});
    EXPECT_TRUE(contains(result.paths, "/opt/special/libspecial.so.1"));
    EXPECT_TRUE(contains(result.paths, "/opt/more/libmore.so.1"));
}

TEST_F(ClosureTest, LdSoConfDirectoriesComeBeforeTheDefaultOnes) {
    text("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
    // The include directory is itself an absolute link, resolved in the root.
    link("/etc/ld.so.conf.d", "/usr/share/ldconf");
    text("/usr/share/ldconf/x.conf", "/usr/local/lib\n");
    program("/usr/bin/app", {"libdup.so.1"});
    library("/usr/local/lib/libdup.so.1", "libdup.so.1", {});
    library(std::string(kLibDir) + "/libdup.so.1", "libdup.so.1", {});

    const ClosureResult result = closure({"/usr/bin/app"});
    EXPECT_TRUE(contains(result.paths, "/usr/local/lib/libdup.so.1"));
    EXPECT_FALSE(contains(result.paths, "/usr/lib/x86_64-linux-gnu/libdup.so.1"));
    EXPECT_EQ(read_ld_so_conf(root()), Paths{"/usr/local/lib"});
}

TEST_F(ClosureTest, AbsoluteSymlinksResolveInsideTheRoot) {
    program("/usr/bin/app", {"libabs.so.1"});
    link(std::string(kLibDir) + "/libabs.so.1", "/opt/vendor/libabs.so.1");
    library("/opt/vendor/libabs.so.1", "libabs.so.1", {});
    const ClosureResult result = closure({"/usr/bin/app"});
    EXPECT_TRUE(contains(result.paths, "/usr/lib/x86_64-linux-gnu/libabs.so.1"));
    EXPECT_TRUE(contains(result.paths, "/opt/vendor/libabs.so.1"));

    // The host has this libm; the root does not, so the link dangles there.
    ASSERT_TRUE(is_elf("/usr/lib/x86_64-linux-gnu/libm.so.6"));
    program("/usr/bin/mathy", {"libmath.so.1"});
    link(std::string(kLibDir) + "/libmath.so.1", "/../../../usr/lib/x86_64-linux-gnu/libm.so.6");
    EXPECT_EQ(closure_error({"/usr/bin/mathy"}),
              "/usr/bin/mathy: cannot find libmath.so.1 (needed by /usr/bin/mathy)");
}

TEST_F(ClosureTest, MissingSonameNamesTheProgramTheSonameAndTheObject) {
    program("/usr/bin/app", {"libgone.so.7"});
    EXPECT_EQ(closure_error({"/usr/bin/app"}),
              "/usr/bin/app: cannot find libgone.so.7 (needed by /usr/bin/app)");

    program("/usr/bin/deep", {"libfoo.so.1"});
    library(std::string(kLibDir) + "/libfoo.so.1", "libfoo.so.1", {"libgone.so.7"});
    EXPECT_EQ(closure_error({"/usr/bin/deep"}),
              "/usr/bin/deep: cannot find libgone.so.7 (needed by "
              "/lib/x86_64-linux-gnu/libfoo.so.1)");
}

TEST_F(ClosureTest, OptionalSonamesMayStayMissing) {
    program("/usr/bin/app", {"libgone.so.7", "libc.so.6"});
    const ClosureResult result =
        resolve_closure(request({"/usr/bin/app"}, {"libgone.so.7", "libother.so"}));
    ASSERT_EQ(result.warnings.size(), 1u);
    EXPECT_NE(result.warnings[0].find("libgone.so.7"), std::string::npos);
    EXPECT_NE(result.warnings[0].find("/usr/bin/app"), std::string::npos);
    EXPECT_TRUE(contains(result.paths, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
}

TEST_F(ClosureTest, WrongArchitectureLibrariesAreSkipped) {
    ElfSpec app;
    app.rpath = "/opt/arm64:/opt/i386:/opt/x32";
    program("/usr/bin/app", {"libfoo.so.1"}, app);
    ElfSpec arm64;
    arm64.machine = test::kEmAarch64;
    library("/opt/arm64/libfoo.so.1", "libfoo.so.1", {}, arm64);
    ElfSpec i386;
    i386.machine = test::kEmI386;
    i386.elf_class = 32;
    library("/opt/i386/libfoo.so.1", "libfoo.so.1", {}, i386);
    ElfSpec x32;
    x32.elf_class = 32;
    library("/opt/x32/libfoo.so.1", "libfoo.so.1", {}, x32);
    library(std::string(kLibDir) + "/libfoo.so.1", "libfoo.so.1", {});

    const ClosureResult result = closure({"/usr/bin/app"});
    EXPECT_TRUE(contains(result.paths, "/usr/lib/x86_64-linux-gnu/libfoo.so.1"));
    EXPECT_FALSE(contains(result.paths, "/opt/arm64/libfoo.so.1"));
    EXPECT_FALSE(contains(result.paths, "/opt/i386/libfoo.so.1"));
    EXPECT_FALSE(contains(result.paths, "/opt/x32/libfoo.so.1"));
}

TEST_F(ClosureTest, ForeignArchitectureProgramsGetTheirOwnLibraries) {
    ElfSpec arm64;
    arm64.machine = test::kEmAarch64;
    ElfSpec app = arm64;
    app.interpreter = "/lib/ld-linux-aarch64.so.1";
    app.needed = {"libc.so.6"};
    app.rpath = "/usr/lib/x86_64-linux-gnu";  // holds an amd64 libc.so.6, passed over
    elf("/usr/bin/app", app);
    library("/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", "ld-linux-aarch64.so.1", {}, arm64);
    link("/usr/lib/ld-linux-aarch64.so.1", "aarch64-linux-gnu/ld-linux-aarch64.so.1");
    library("/usr/lib/aarch64-linux-gnu/libc.so.6", "libc.so.6", {"ld-linux-aarch64.so.1"}, arm64);
    ClosureRequest req{root(), {"/usr/bin/app"}, {}, "aarch64-linux-gnu", "aarch64"};
    const ClosureResult result = resolve_closure(req);
    EXPECT_TRUE(contains(result.paths, "/usr/lib/aarch64-linux-gnu/libc.so.6"));
    EXPECT_TRUE(contains(result.paths, "/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1"));
    EXPECT_FALSE(contains(result.paths, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
}

TEST_F(ClosureTest, MalformedCandidatesAreSkippedWithAWarning) {
    ElfSpec app;
    app.rpath = "/opt/broken";
    program("/usr/bin/app", {"libfoo.so.1"}, app);
    text("/opt/broken/libfoo.so.1", test::make_elf(ElfSpec{}).substr(0, 40));
    text("/opt/broken/libtext.so.1", "INPUT(-lfoo)\n");
    library(std::string(kLibDir) + "/libfoo.so.1", "libfoo.so.1", {});

    const ClosureResult result = closure({"/usr/bin/app"});
    EXPECT_TRUE(contains(result.paths, "/usr/lib/x86_64-linux-gnu/libfoo.so.1"));
    EXPECT_FALSE(contains(result.paths, "/opt/broken/libfoo.so.1"));
    ASSERT_EQ(result.warnings.size(), 1u);
    EXPECT_NE(result.warnings[0].find("/opt/broken/libfoo.so.1"), std::string::npos);
}

TEST_F(ClosureTest, RpathIsIgnoredWhenRunpathIsPresent) {
    ElfSpec app;
    app.rpath = "/opt/rpath";
    app.runpath = "/opt/runpath";
    program("/usr/bin/app", {"libz.so.1"}, app);
    library("/opt/rpath/libz.so.1", "libz.so.1", {});
    library("/opt/runpath/libz.so.1", "libz.so.1", {});

    const ClosureResult result = closure({"/usr/bin/app"});
    EXPECT_TRUE(contains(result.paths, "/opt/runpath/libz.so.1"));
    EXPECT_FALSE(contains(result.paths, "/opt/rpath/libz.so.1"));
}

TEST_F(ClosureTest, RpathIsInheritedByLibrariesButRunpathIsNot) {
    library("/opt/private/liba.so", "liba.so", {"libb.so"});
    library("/opt/private/libb.so", "libb.so", {});

    ElfSpec with_rpath;
    with_rpath.rpath = "/opt/private";
    program("/usr/bin/rpath-app", {"liba.so"}, with_rpath);
    const ClosureResult result = closure({"/usr/bin/rpath-app"});
    EXPECT_TRUE(contains(result.paths, "/opt/private/libb.so"));

    ElfSpec with_runpath;
    with_runpath.runpath = "/opt/private";
    program("/usr/bin/runpath-app", {"liba.so"}, with_runpath);
    EXPECT_EQ(closure_error({"/usr/bin/runpath-app"}),
              "/usr/bin/runpath-app: cannot find libb.so (needed by /opt/private/liba.so)");

    // A library with a DT_RUNPATH of its own stops the inheritance for its needs.
    ElfSpec stopper;
    stopper.runpath = "/nowhere";
    library("/opt/stop/libstop.so", "libstop.so", {"libb.so"}, stopper);
    ElfSpec app;
    app.rpath = "/opt/stop:/opt/private";
    program("/usr/bin/stopped", {"libstop.so"}, app);
    EXPECT_EQ(closure_error({"/usr/bin/stopped"}),
              "/usr/bin/stopped: cannot find libb.so (needed by /opt/stop/libstop.so)");
}

TEST_F(ClosureTest, LibAndPlatformTokensExpand) {
    ElfSpec app;
    app.rpath = "/opt/$LIB:/opt/${PLATFORM}/x:/opt/$LIBRARY";
    program("/usr/bin/app", {"liba.so", "libb.so", "libc.so"}, app);
    library("/opt/lib/x86_64-linux-gnu/liba.so", "liba.so", {});
    library("/opt/haswell/x/libb.so", "libb.so", {});
    library("/opt/$LIBRARY/libc.so", "libc.so", {});  // not a token: kept as written

    const ClosureResult result = closure({"/usr/bin/app"});
    EXPECT_TRUE(contains(result.paths, "/opt/lib/x86_64-linux-gnu/liba.so"));
    EXPECT_TRUE(contains(result.paths, "/opt/haswell/x/libb.so"));
    EXPECT_TRUE(contains(result.paths, "/opt/$LIBRARY/libc.so"));
}

TEST_F(ClosureTest, NeededNamesWithASlashArePaths) {
    program("/opt/app/app", {"/opt/abs/libq.so", "$ORIGIN/plugins/libp.so"});
    library("/opt/abs/libq.so", "libq.so", {});
    library("/opt/app/plugins/libp.so", "libp.so", {});
    library(std::string(kLibDir) + "/libp.so", "libp.so", {});  // not searched

    const ClosureResult result = closure({"/opt/app/app"});
    EXPECT_TRUE(contains(result.paths, "/opt/abs/libq.so"));
    EXPECT_TRUE(contains(result.paths, "/opt/app/plugins/libp.so"));
    EXPECT_FALSE(contains(result.paths, "/usr/lib/x86_64-linux-gnu/libp.so"));
}

TEST_F(ClosureTest, DlopenedModulesAreMoreRoots) {
    program("/usr/bin/app", {"libc.so.6"});
    ClosureResult result = closure({"/usr/bin/app"});
    const Paths before = result.paths;

    ElfSpec module;
    module.runpath = "$ORIGIN";
    library(std::string(kLibDir) + "/nss/libnss_x.so.2", "libnss_x.so.2", {"libdep.so"}, module);
    library(std::string(kLibDir) + "/nss/libdep.so", "libdep.so", {"libc.so.6"});
    add_dlopen_modules(result, request({"/usr/bin/app"}),
                       {"/lib/x86_64-linux-gnu/nss/libnss_x.so.2"});

    for (const std::string& path : before) EXPECT_TRUE(contains(result.paths, path)) << path;
    EXPECT_TRUE(contains(result.paths, "/usr/lib/x86_64-linux-gnu/nss/libnss_x.so.2"));
    EXPECT_TRUE(contains(result.paths, "/usr/lib/x86_64-linux-gnu/nss/libdep.so"));
    EXPECT_TRUE(std::is_sorted(result.paths.begin(), result.paths.end()));
    EXPECT_EQ(std::adjacent_find(result.paths.begin(), result.paths.end()), result.paths.end());
}

TEST_F(ClosureTest, SeveralRootsGiveOneSortedUniqueList) {
    program("/usr/bin/one", {"libshared.so.1", "libc.so.6"});
    program("/usr/bin/two", {"libshared.so.1"});
    library(std::string(kLibDir) + "/libshared.so.1", "libshared.so.1", {"libc.so.6"});
    const ClosureResult result = closure({"/usr/bin/two", "/usr/bin/one", "/usr/bin/two"});
    EXPECT_TRUE(std::is_sorted(result.paths.begin(), result.paths.end()));
    EXPECT_EQ(std::adjacent_find(result.paths.begin(), result.paths.end()), result.paths.end());
    EXPECT_EQ(std::count(result.paths.begin(), result.paths.end(),
                         "/usr/lib/x86_64-linux-gnu/libshared.so.1"),
              1);
}

TEST_F(ClosureTest, ScriptsAndStaticProgramsBringOnlyThemselves) {
    text("/usr/bin/script", "#!/bin/sh\necho hi\n");
    ElfSpec static_program;
    static_program.dynamic = false;
    static_program.type = 2;
    elf("/usr/bin/static", static_program);
    const ClosureResult result = closure({"/bin/script", "/usr/bin/static"});
    EXPECT_EQ(result.paths, (Paths{"/bin", "/usr/bin/script", "/usr/bin/static"}));
}

TEST_F(ClosureTest, MissingRootsAndInterpretersAreErrors) {
    EXPECT_EQ(closure_error({"/usr/bin/nothing"}),
              "/usr/bin/nothing: not found in the root filesystem");
    ElfSpec app;
    app.interpreter = "/lib/ld-missing.so.1";
    elf("/usr/bin/app", app);
    EXPECT_EQ(closure_error({"/usr/bin/app"}),
              "/usr/bin/app: cannot find interpreter /lib/ld-missing.so.1");
    text("/usr/bin/broken", test::make_elf(ElfSpec{}).substr(0, 30));
    EXPECT_NE(closure_error({"/usr/bin/broken"}).find("truncated"), std::string::npos);
}

TEST(ClosureOnTheHost, LsNeedsLibcAndTheLoader) {
    const ClosureResult result =
        resolve_closure(ClosureRequest{"/", {"/bin/ls"}, {}, kTriplet, "x86_64"});
    const Result<ElfInfo> ls = read_elf("/bin/ls");
    ASSERT_TRUE(ls.ok());
    EXPECT_TRUE(contains(result.paths, fs::canonical("/bin/ls").string()));
    EXPECT_TRUE(contains(result.paths, fs::canonical(kInterpreter).string()));
    EXPECT_TRUE(contains(result.paths, fs::canonical("/lib/x86_64-linux-gnu/libc.so.6").string()));
    for (const std::string& needed : ls.value().needed) {
        const fs::path host_copy = fs::path("/lib/x86_64-linux-gnu") / needed;
        if (fs::exists(host_copy)) {
            EXPECT_TRUE(contains(result.paths, fs::canonical(host_copy).string())) << needed;
        }
    }
}

}  // namespace
}  // namespace dmc
