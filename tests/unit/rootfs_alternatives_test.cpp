#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "rootfs/alternatives.hpp"
#include "rootfs/path.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc::rootfs {
namespace {

class AlternativesTest : public ::testing::Test {
  protected:
    // A package whose postinst is `script` and that ships the files `paths`.
    void package(const std::string& name, const std::string& script,
                 const std::vector<std::string>& paths) {
        manifest_.packages[name].scripts["postinst"] = script;
        for (const auto& p : paths) {
            fs::create_directories((root() / p.substr(1)).parent_path());
            std::ofstream(root() / p.substr(1)) << name;
            FileRecord r;
            r.package = name;
            manifest_.files[p] = r;
        }
        order_.push_back(name);
    }
    std::vector<AlternativeSelection> select(const std::map<std::string, std::string>& pins = {}) {
        const auto read =
            read_alternatives(manifest_, order_, script_facts("amd64", "x86_64-linux-gnu"));
        unfollowed_ = read.unfollowed;
        return select_alternatives(root(), read.choices, pins);
    }
    std::string link_of(const std::string& path) {
        return fs::read_symlink(root() / path.substr(1)).string();
    }
    const fs::path& root() const { return temp_.path(); }

    TempDir temp_{"dmc-alternatives-test"};
    Manifest manifest_;
    std::vector<std::string> order_;
    std::vector<UnfollowedCommand> unfollowed_;
};

const char* const kBlas =
    "#!/bin/sh\nset -e\nupdate-alternatives --install /usr/lib/x86_64-linux-gnu/libblas.so.3 \\\n"
    "  libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 10\n";
const char* const kOpenblas =
    "#!/bin/sh\nset -e\nMA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)\n"
    "update-alternatives --install /usr/lib/$MA/libblas.so.3 libblas.so.3-$MA \\\n"
    "  /usr/lib/$MA/openblas-pthread/libblas.so.3 100 \\\n"
    "  --slave /usr/share/doc/blas-flavour blas-flavour /usr/share/openblas/flavour \\\n"
    "  --slave /usr/share/doc/blas-missing blas-missing /usr/share/openblas/none\n";

TEST_F(AlternativesTest, AutoModeTakesTheHighestPriorityAndItsSlaves) {
    package("libblas3", kBlas, {"/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"});
    package(
        "libopenblas0-pthread", kOpenblas,
        {"/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", "/usr/share/openblas/flavour"});
    const auto chosen = select();
    ASSERT_EQ(chosen.size(), 1u);
    EXPECT_EQ(chosen[0].choice.package, "libopenblas0-pthread");
    EXPECT_EQ(chosen[0].choice.priority, 100);
    ASSERT_EQ(chosen[0].slaves.size(), 1u);  // the slave whose path is missing is dropped
    EXPECT_EQ(chosen[0].slaves[0].name, "blas-flavour");

    const auto notes = apply_alternatives(root(), manifest_, chosen);
    EXPECT_EQ(notes.size(), 2u);
    EXPECT_EQ(link_of("/usr/lib/x86_64-linux-gnu/libblas.so.3"),
              "/etc/alternatives/libblas.so.3-x86_64-linux-gnu");
    EXPECT_EQ(link_of("/etc/alternatives/libblas.so.3-x86_64-linux-gnu"),
              "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3");
    EXPECT_EQ(resolve_in_root(root(), "/usr/share/doc/blas-flavour"),
              "/usr/share/openblas/flavour");
    EXPECT_EQ(manifest_.files.at("/usr/lib/x86_64-linux-gnu/libblas.so.3").type, 'l');
    EXPECT_EQ(manifest_.files.at("/usr/lib/x86_64-linux-gnu/libblas.so.3").package, "");
    EXPECT_EQ(manifest_.files.at("/etc/alternatives").type, 'd');
}

TEST_F(AlternativesTest, ATieGoesToThePackageInstalledFirstAndAMissingPathIsNoChoice) {
    package("libblas3", kBlas, {"/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"});
    // Priority 100, but its library is not there: update-alternatives refuses it.
    package("libopenblas0-pthread", kOpenblas, {});
    package("other", std::string(kBlas).replace(std::string(kBlas).find("blas/"), 5, "alt/"),
            {"/usr/lib/x86_64-linux-gnu/alt/libblas.so.3"});
    const auto chosen = select();
    ASSERT_EQ(chosen.size(), 1u);
    EXPECT_EQ(chosen[0].choice.package, "libblas3");
}

TEST_F(AlternativesTest, APinWinsAndAWrongPinIsNamed) {
    package("libblas3", kBlas, {"/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"});
    package("libopenblas0-pthread", kOpenblas,
            {"/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"});
    const auto pinned =
        select({{"libblas.so.3-x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"}});
    ASSERT_EQ(pinned.size(), 1u);
    EXPECT_TRUE(pinned[0].pinned);
    EXPECT_EQ(pinned[0].choice.package, "libblas3");
    try {
        select({{"libblas.so.3-x86_64-linux-gnu", "/usr/lib/nowhere/libblas.so.3"}});
        FAIL() << "a pin to no choice was taken";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(
                      "not one of its choices (/usr/lib/x86_64-linux-gnu/blas/libblas.so.3, "
                      "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3)"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW(select({{"liblapack.so.3", "/x"}}), Error);
}

TEST_F(AlternativesTest, WhatCannotBeFollowedIsReportedAndAPackagedFileIsNotReplaced) {
    package("loop",
            "for v in a b; do update-alternatives --install /usr/bin/$v $v /opt/$v 1; done\n"
            "update-alternatives --install /usr/bin/short short\n"
            "update-alternatives --remove old /opt/old\n",
            {});
    package("editor", "update-alternatives --install /usr/bin/editor editor /usr/bin/ed 10\n",
            {"/usr/bin/ed", "/usr/bin/editor"});
    const auto chosen = select();
    ASSERT_EQ(unfollowed_.size(), 2u);
    EXPECT_EQ(unfollowed_[0].package, "loop");
    EXPECT_EQ(unfollowed_[0].command, "update-alternatives --install ? ? ? 1");
    EXPECT_NE(unfollowed_[1].command.find("needs LINK NAME PATH PRIORITY"), std::string::npos);
    const auto notes = apply_alternatives(root(), manifest_, chosen);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("not replaced"), std::string::npos);
    EXPECT_FALSE(fs::is_symlink(root() / "usr/bin/editor"));
}

TEST_F(AlternativesTest, LinksAreMadeInsideTheRootThroughItsSymlinks) {
    // /usr/lib/x86_64-linux-gnu is an absolute link: on the host it would lead out.
    package("libblas3", kBlas, {"/opt/blas/blas/libblas.so.3"});
    fs::create_directories(root() / "usr/lib");
    fs::create_symlink("/opt/blas", root() / "usr/lib/x86_64-linux-gnu");
    const auto chosen = select();
    ASSERT_EQ(chosen.size(), 1u);
    apply_alternatives(root(), manifest_, chosen);
    EXPECT_TRUE(fs::is_symlink(root() / "opt/blas/libblas.so.3"));
    EXPECT_EQ(manifest_.files.at("/opt/blas/libblas.so.3").link,
              "/etc/alternatives/libblas.so.3-x86_64-linux-gnu");
}

}  // namespace
}  // namespace dmc::rootfs
