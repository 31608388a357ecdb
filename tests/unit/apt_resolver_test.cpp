#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "apt/resolver.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

// Every scenario here was also run through `apt-get install -s` (apt 2.6) with
// tests/integration/apt_simulate.sh, and the expectations are apt's choices.

namespace dmc::apt {
namespace {

// One Packages stanza; `extra` holds further "Field: value" lines.
std::string stanza(const std::string& name, const std::string& version,
                   const std::string& extra = "", const std::string& arch = "amd64") {
    std::string out =
        "Package: " + name + "\nVersion: " + version + "\nArchitecture: " + arch + "\n" + extra;
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += "Filename: pool/" + name + "_" + version + "_" + arch + ".deb\nSize: 100\n\n";
    return out;
}

PackageIndex make_index(std::initializer_list<std::string> stanzas) {
    std::string text;
    for (const std::string& s : stanzas) text += s;
    PackageIndex index;
    index.add(text, "http://mirror.example/debian", "main", "amd64");
    return index;
}

ResolveRequest request(std::vector<std::string> packages) {
    ResolveRequest r;
    r.packages = std::move(packages);
    r.native_arch = "amd64";
    return r;
}

// The index saved and read back, as later runs read it: its packages are read from
// the file when a lookup first returns them.
PackageIndex saved_copy(const PackageIndex& index, const TempDir& temp) {
    const auto same = [](std::string_view url) { return std::string(url); };
    index.save(temp.path() / "parsed", same);
    auto loaded = PackageIndex::load_saved(temp.path() / "parsed", same);
    if (!loaded) throw Error("the saved index was not read back");
    return std::move(*loaded);
}

// "name version arch" of each chosen package, in the resolution's order. Every
// resolution is made twice, over the parsed index and over it saved and read back,
// and the two must agree.
std::vector<std::string> chosen(const PackageIndex& index, const ResolveRequest& r) {
    auto of = [&](const PackageIndex& i) {
        std::vector<std::string> out;
        for (const Package* p : resolve(i, r).packages) out.push_back(p->display());
        return out;
    };
    TempDir temp;
    auto out = of(index);
    EXPECT_EQ(of(saved_copy(index, temp)), out) << "the saved index resolves otherwise";
    return out;
}

using Names = std::vector<std::string>;

std::string error_of(const PackageIndex& index, const ResolveRequest& r) {
    auto of = [&](const PackageIndex& i) -> std::string {
        try {
            resolve(i, r);
        } catch (const Error& e) {
            return e.what();
        }
        return "(no error)";
    };
    TempDir temp;
    auto out = of(index);
    EXPECT_EQ(of(saved_copy(index, temp)), out) << "the saved index resolves otherwise";
    return out;
}

TEST(AptResolver, FollowsDependenciesAndSortsByName) {
    auto index = make_index({stanza("c", "1"), stanza("a", "1", "Depends: b"),
                             stanza("b", "1", "Pre-Depends: c"), stanza("unrelated", "1")});
    EXPECT_EQ(chosen(index, request({"a"})), (Names{"a 1 amd64", "b 1 amd64", "c 1 amd64"}));
}

TEST(AptResolver, TakesTheFirstInstallableAlternative) {
    auto index =
        make_index({stanza("a", "1", "Depends: x | y"), stanza("x", "1"), stanza("y", "1")});
    EXPECT_EQ(chosen(index, request({"a"})), (Names{"a 1 amd64", "x 1 amd64"}));
    auto no_x = make_index({stanza("a", "1", "Depends: x | y"), stanza("y", "1")});
    EXPECT_EQ(chosen(no_x, request({"a"})), (Names{"a 1 amd64", "y 1 amd64"}));
}

TEST(AptResolver, DropsWhatAFailedAlternativePulledIn) {
    // x marks z, then fails on w; apt moves on to y and autoremoves z.
    auto index =
        make_index({stanza("a", "1", "Depends: x | y"), stanza("x", "1", "Depends: z, w"),
                    stanza("z", "1"), stanza("w", "1", "Depends: missing"), stanza("y", "1")});
    EXPECT_EQ(chosen(index, request({"a"})), (Names{"a 1 amd64", "y 1 amd64"}));
}

TEST(AptResolver, AlternativeAlreadyMetIsNotExpanded) {
    auto index =
        make_index({stanza("a", "1", "Depends: b, c | b"), stanza("b", "1"), stanza("c", "1")});
    EXPECT_EQ(chosen(index, request({"a"})), (Names{"a 1 amd64", "b 1 amd64"}));
}

TEST(AptResolver, PreDependsComeFirst) {
    auto index = make_index(
        {stanza("a", "1", "Depends: x | y\nPre-Depends: y"), stanza("x", "1"), stanza("y", "1")});
    EXPECT_EQ(chosen(index, request({"a"})), (Names{"a 1 amd64", "y 1 amd64"}));
}

TEST(AptResolver, VersionedDependencyPicksAFittingCandidate) {
    auto index = make_index({stanza("a", "1", "Depends: b (>= 2)"), stanza("b", "1"),
                             stanza("b", "3"), stanza("b", "2")});
    EXPECT_EQ(chosen(index, request({"a"})), (Names{"a 1 amd64", "b 3 amd64"}));
}

TEST(AptResolver, VirtualPackagesWithVersionedProvides) {
    auto index =
        make_index({stanza("a", "1", "Depends: v (>= 2)"), stanza("p1", "1", "Provides: v (= 1)"),
                    stanza("p2", "1", "Provides: v (= 2)"),
                    stanza("p3", "1", "Provides: v")});  // unversioned: no match
    EXPECT_EQ(chosen(index, request({"a"})), (Names{"a 1 amd64", "p2 1 amd64"}));
}

TEST(AptResolver, ProviderChoiceFollowsApt) {
    // Higher priority first.
    auto by_priority = make_index({stanza("a", "1", "Depends: mta"),
                                   stanza("exim", "1", "Provides: mta\nPriority: optional"),
                                   stanza("postfix", "1", "Provides: mta\nPriority: standard")});
    EXPECT_EQ(chosen(by_priority, request({"a"})), (Names{"a 1 amd64", "postfix 1 amd64"}));
    // A real package of the name beats providers, whatever their priority.
    auto real_first =
        make_index({stanza("a", "1", "Depends: v"), stanza("v", "1", "Priority: extra"),
                    stanza("p1", "1", "Provides: v\nPriority: required")});
    EXPECT_EQ(chosen(real_first, request({"a"})), (Names{"a 1 amd64", "v 1 amd64"}));
    // Essential beats priority.
    auto essential = make_index(
        {stanza("a", "1", "Depends: v"), stanza("p1", "1", "Provides: v\nPriority: required"),
         stanza("p2", "1", "Provides: v\nPriority: optional\nEssential: yes")});
    EXPECT_EQ(chosen(essential, request({"a"})), (Names{"a 1 amd64", "p2 1 amd64"}));
    // Otherwise equal: the package apt's cache met last.
    auto last = make_index({stanza("a", "1", "Depends: v"),
                            stanza("p1", "1", "Provides: v\nPriority: optional"),
                            stanza("p2", "1", "Provides: v\nPriority: optional")});
    EXPECT_EQ(chosen(last, request({"a"})), (Names{"a 1 amd64", "p2 1 amd64"}));
    auto last2 = make_index({stanza("p2", "1", "Provides: v\nPriority: optional"),
                             stanza("a", "1", "Depends: v"),
                             stanza("p1", "1", "Provides: v\nPriority: optional")});
    EXPECT_EQ(chosen(last2, request({"a"})), (Names{"a 1 amd64", "p1 1 amd64"}));
    // apt's cache meets a package first where any stanza names it: here p2, in z's
    // Depends, before p1's own stanza.
    auto named_first = make_index({stanza("z", "1", "Depends: p2"), stanza("a", "1", "Depends: v"),
                                   stanza("p1", "1", "Provides: v\nPriority: optional"),
                                   stanza("p2", "1", "Provides: v\nPriority: optional")});
    EXPECT_EQ(chosen(named_first, request({"a"})), (Names{"a 1 amd64", "p1 1 amd64"}));
    // A Conflicts meets a package only when no package of its name was met: p1 is met
    // by y's Conflicts, p2 is not (x named it already, for another arch).
    auto negative = make_index(
        {stanza("x", "1", "Depends: p2:i386"), stanza("y", "1", "Conflicts: p2, p1"),
         stanza("a", "1", "Depends: v"), stanza("p2", "1", "Provides: v\nPriority: optional"),
         stanza("p1", "1", "Provides: v\nPriority: optional")});
    EXPECT_EQ(chosen(negative, request({"a"})), (Names{"a 1 amd64", "p2 1 amd64"}));
}

TEST(AptResolver, RequestedProviderIsPreferred) {
    auto index = make_index({stanza("a", "1", "Depends: v"),
                             stanza("b", "1", "Provides: v\nPriority: optional"),
                             stanza("c", "1", "Provides: v\nPriority: required")});
    EXPECT_EQ(chosen(index, request({"a"})), (Names{"a 1 amd64", "c 1 amd64"}));
    EXPECT_EQ(chosen(index, request({"a", "b"})), (Names{"a 1 amd64", "b 1 amd64"}));
}

TEST(AptResolver, ArchQualifiers) {
    auto index =
        make_index({stanza("a", "1", "Depends: b:any, c"), stanza("b", "1", "Multi-Arch: allowed"),
                    stanza("c", "1", "Multi-Arch: foreign")});
    EXPECT_EQ(chosen(index, request({"a"})), (Names{"a 1 amd64", "b 1 amd64", "c 1 amd64"}));
    // ":any" needs Multi-Arch: allowed.
    auto not_allowed = make_index({stanza("a", "1", "Depends: b:any"), stanza("b", "1")});
    EXPECT_NE(error_of(not_allowed, request({"a"})).find("a -> b:any: no installable version"),
              std::string::npos);
    auto native = make_index({stanza("a", "1", "Depends: b:native"), stanza("b", "1")});
    EXPECT_EQ(chosen(native, request({"a"})), (Names{"a 1 amd64", "b 1 amd64"}));
}

ResolveRequest multiarch_request(std::vector<std::string> packages) {
    ResolveRequest r = request(std::move(packages));
    r.foreign_archs = {"arm64"};
    return r;
}

TEST(AptResolver, MultiArchForeignSatisfiesOtherArchitectures) {
    auto index = make_index({stanza("a", "1", "Depends: b", "arm64"),
                             stanza("b", "1", "Multi-Arch: foreign", "amd64"),
                             stanza("b", "1", "Multi-Arch: foreign", "arm64")});
    EXPECT_EQ(chosen(index, multiarch_request({"a:arm64"})), (Names{"a 1 arm64", "b 1 amd64"}));
    auto plain = make_index({stanza("a", "1", "Depends: b", "arm64"), stanza("b", "1", "", "amd64"),
                             stanza("b", "1", "", "arm64")});
    EXPECT_EQ(chosen(plain, multiarch_request({"a:arm64"})), (Names{"a 1 arm64", "b 1 arm64"}));
}

TEST(AptResolver, MultiArchSameIsCoInstallable) {
    auto index = make_index({stanza("libx", "1", "Multi-Arch: same\nDepends: liby", "amd64"),
                             stanza("libx", "1", "Multi-Arch: same\nDepends: liby", "arm64"),
                             stanza("liby", "1", "Multi-Arch: same", "amd64"),
                             stanza("liby", "1", "Multi-Arch: same", "arm64")});
    auto r = multiarch_request({"libx:amd64", "libx:arm64"});
    EXPECT_EQ(chosen(index, r),
              (Names{"libx 1 amd64", "libx 1 arm64", "liby 1 amd64", "liby 1 arm64"}));
    EXPECT_TRUE(resolve(index, r).problems.empty());
}

TEST(AptResolver, MultiArchAllowedAndArchitectureAll) {
    auto perl = make_index({stanza("a", "1", "Depends: perl:any", "arm64"),
                            stanza("perl", "1", "Multi-Arch: allowed", "amd64"),
                            stanza("perl", "1", "Multi-Arch: allowed", "arm64")});
    EXPECT_EQ(chosen(perl, multiarch_request({"a:arm64"})), (Names{"a 1 arm64", "perl 1 amd64"}));
    // Architecture: all is the native architecture: only Multi-Arch: foreign serves others.
    auto all_foreign = make_index(
        {stanza("a", "1", "Depends: d", "arm64"), stanza("d", "1", "Multi-Arch: foreign", "all")});
    EXPECT_EQ(chosen(all_foreign, multiarch_request({"a:arm64"})), (Names{"a 1 arm64", "d 1 all"}));
    auto all_plain =
        make_index({stanza("a", "1", "Depends: d", "arm64"), stanza("d", "1", "", "all")});
    EXPECT_NE(error_of(all_plain, multiarch_request({"a:arm64"})).find("a -> d: no installable"),
              std::string::npos);
    auto native_all = make_index({stanza("a", "1", "Depends: d"), stanza("d", "1", "", "all")});
    EXPECT_EQ(chosen(native_all, request({"a"})), (Names{"a 1 amd64", "d 1 all"}));
}

TEST(AptResolver, ExcludesDropWhatOnlyTheyPulledIn) {
    auto index = make_index({stanza("a", "1", "Depends: b, c"), stanza("b", "1", "Depends: e"),
                             stanza("c", "1", "Depends: d"), stanza("d", "1"), stanza("e", "1")});
    ResolveRequest r = request({"a"});
    r.excludes = {"b"};
    EXPECT_EQ(chosen(index, r), (Names{"a 1 amd64", "c 1 amd64", "d 1 amd64"}));
    r.excludes = {"c", "e"};
    EXPECT_EQ(chosen(index, r), (Names{"a 1 amd64", "b 1 amd64"}));
    r.packages = {"b"};
    r.excludes = {"b"};
    EXPECT_NE(error_of(index, r).find("both requested and excluded"), std::string::npos);
}

TEST(AptResolver, PinsAndRequestedVersions) {
    auto index = make_index({stanza("a", "1", "Depends: b"), stanza("a", "2", "Depends: b"),
                             stanza("b", "1"), stanza("b", "2")});
    ResolveRequest r = request({"a"});
    r.pins = {{"b", "1"}};
    EXPECT_EQ(chosen(index, r), (Names{"a 2 amd64", "b 1 amd64"}));
    r.packages = {"a=1"};
    EXPECT_EQ(chosen(index, r), (Names{"a 1 amd64", "b 1 amd64"}));
    r.packages = {"a:amd64=1"};
    EXPECT_EQ(chosen(index, r), (Names{"a 1 amd64", "b 1 amd64"}));
    r.pins = {{"b", "7"}};
    std::string pin_error = error_of(index, r);
    EXPECT_NE(pin_error.find("pins b to 7"), std::string::npos) << pin_error;
    EXPECT_NE(pin_error.find("available: 2, 1"), std::string::npos) << pin_error;
    r.pins.clear();
    r.packages = {"a=3"};
    EXPECT_NE(error_of(index, r).find("version 3 of a is not in the index"), std::string::npos);
}

TEST(AptResolver, CyclesTerminate) {
    auto index = make_index({stanza("a", "1", "Depends: b"), stanza("b", "1", "Pre-Depends: c"),
                             stanza("c", "1", "Depends: a")});
    EXPECT_EQ(chosen(index, request({"a"})), (Names{"a 1 amd64", "b 1 amd64", "c 1 amd64"}));
    EXPECT_EQ(chosen(index, request({"c", "a"})), (Names{"a 1 amd64", "b 1 amd64", "c 1 amd64"}));
}

TEST(AptResolver, UnsatisfiableDependencyShowsTheChain) {
    auto index =
        make_index({stanza("nginx", "1", "Depends: libfoo (>= 2)"),
                    stanza("libfoo", "2.0", "Depends: libbar (>= 2)"), stanza("libbar", "1.0")});
    EXPECT_EQ(error_of(index, request({"nginx"})),
              "unsatisfiable dependency: nginx -> libfoo (>= 2) -> libbar (>= 2): no installable "
              "version (available: 1.0)");
    auto alternatives =
        make_index({stanza("nginx", "1", "Depends: libfoo | libbaz"),
                    stanza("libfoo", "2.0", "Depends: libbar (>= 2)"), stanza("libbar", "1.0"),
                    stanza("libbaz", "1", "Depends: nothere")});
    EXPECT_EQ(error_of(alternatives, request({"nginx"})),
              "unsatisfiable dependency: nginx -> libfoo -> libbar (>= 2): no installable version "
              "(available: 1.0) | libbaz -> nothere: no such package");
}

TEST(AptResolver, UnknownPackageSuggestsCloseNames) {
    auto index =
        make_index({stanza("nginx", "1"), stanza("nginx-common", "1"), stanza("apache2", "1")});
    std::string message = error_of(index, request({"ngnix"}));
    EXPECT_NE(message.find("unknown package 'ngnix'"), std::string::npos) << message;
    EXPECT_NE(message.find("did you mean nginx"), std::string::npos) << message;
    EXPECT_EQ(suggest_names("nginx-comon", {"nginx", "nginx-common", "apache2"}),
              (std::vector<std::string>{"nginx-common", "nginx"}));
    EXPECT_TRUE(suggest_names("zzzzzz", {"nginx", "apache2"}).empty());
}

TEST(AptResolver, VirtualRequests) {
    auto one = make_index({stanza("a", "1", "Provides: v")});
    EXPECT_EQ(chosen(one, request({"v"})), (Names{"a 1 amd64"}));
    auto two = make_index({stanza("a", "1", "Provides: v"), stanza("b", "1", "Provides: v")});
    EXPECT_NE(error_of(two, request({"v"})).find("virtual package provided by: a, b"),
              std::string::npos);
}

TEST(AptResolver, ConflictsBetweenRequestedPackagesAreReported) {
    auto index = make_index(
        {stanza("b", "1"), stanza("c", "1", "Conflicts: b"), stanza("d", "1", "Breaks: b (<< 2)")});
    Resolution r = resolve(index, request({"b", "c", "d"}));
    ASSERT_EQ(r.packages.size(), 3u);
    EXPECT_EQ(r.problems,
              (std::vector<std::string>{"c 1 amd64 conflicts with b 1 amd64 (Conflicts: b)",
                                        "d 1 amd64 breaks b 1 amd64 (Breaks: b (<< 2))"}));
}

TEST(AptResolver, ConflictOfARequestedPackageTurnsToTheNextAlternative) {
    auto index = make_index({stanza("a", "1", "Depends: x | y"), stanza("x", "1"), stanza("y", "1"),
                             stanza("b", "1", "Conflicts: x")});
    EXPECT_EQ(chosen(index, request({"a", "b"})), (Names{"a 1 amd64", "b 1 amd64", "y 1 amd64"}));
    EXPECT_EQ(chosen(index, request({"b", "a"})), (Names{"a 1 amd64", "b 1 amd64", "y 1 amd64"}));
    auto alt = make_index({stanza("a", "1", "Depends: b, c | d"), stanza("b", "1"),
                           stanza("c", "1", "Conflicts: b"), stanza("d", "1")});
    EXPECT_EQ(chosen(alt, request({"a"})), (Names{"a 1 amd64", "b 1 amd64", "d 1 amd64"}));
}

TEST(AptResolver, RecommendsAndSuggestsOnRequest) {
    auto index = make_index({stanza("a", "1", "Depends: b\nRecommends: c\nSuggests: d"),
                             stanza("b", "1"), stanza("c", "1"), stanza("d", "1")});
    ResolveRequest r = request({"a"});
    EXPECT_EQ(chosen(index, r), (Names{"a 1 amd64", "b 1 amd64"}));
    r.with_recommends = true;
    EXPECT_EQ(chosen(index, r), (Names{"a 1 amd64", "b 1 amd64", "c 1 amd64"}));
    r.with_suggests = true;
    EXPECT_EQ(chosen(index, r), (Names{"a 1 amd64", "b 1 amd64", "c 1 amd64", "d 1 amd64"}));
}

TEST(AptResolver, NeedsANativeArchitecture) {
    auto index = make_index({stanza("a", "1")});
    ResolveRequest r = request({"a"});
    r.native_arch.clear();
    EXPECT_THROW(resolve(index, r), Error);
}

// A chain deeper than the resolver's limit is reported as the limit, naming where it
// started, not as a false "not installable" with every package of the chain.
// top -> p0 -> p1 -> ... -> p<depth>, each package there.
PackageIndex chain_of(int depth) {
    std::string text = stanza("top", "1", "Depends: p0");
    for (int i = 0; i < depth; ++i)
        text += stanza("p" + std::to_string(i), "1", "Depends: p" + std::to_string(i + 1));
    text += stanza("p" + std::to_string(depth), "1");
    PackageIndex index;
    index.add(text, "http://mirror.example/debian", "main", "amd64");
    return index;
}

TEST(AptResolver, AChainDeeperThanTheLimitIsReportedAsTheLimit) {
    const std::string e = error_of(chain_of(6000), request({"top"}));
    EXPECT_NE(
        e.find(
            "the dependencies of top form a chain deeper than 3000 packages, the resolver's limit"),
        std::string::npos)
        << e.substr(0, 300);
    EXPECT_EQ(e.find("not installable"), std::string::npos);
    EXPECT_LT(e.size(), 400u);
    // Under the limit, the same shape resolves.
    EXPECT_EQ(resolve(chain_of(100), request({"top"})).packages.size(), 102u);
}

}  // namespace
}  // namespace dmc::apt
