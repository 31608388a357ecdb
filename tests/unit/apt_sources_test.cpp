#include <gtest/gtest.h>

#include <fstream>

#include "apt/sources.hpp"
#include "util/fs.hpp"

namespace dmc::apt {
namespace {

namespace fs = std::filesystem;

TEST(Sources, Deb822AndOneLineSourcesBecomeMirrorsForAnyDist) {
    TempDir dir;
    fs::create_directories(dir.path() / "sources.list.d");
    std::ofstream(dir.path() / "sources.list")
        << "# comment\ndeb http://one.example/debian bookworm main contrib\n"
           "deb-src http://one.example/debian bookworm main\n"
           "deb [arch=amd64 signed-by=/k/one.gpg] http://one.example/debian bookworm-updates main "
           "contrib\n"
           "deb http://one.example/debian bookworm-backports main\n";
    std::ofstream(dir.path() / "sources.list.d/debian.sources")
        << "Types: deb\nURIs: http://sec.example/debian-security/\nSuites: bookworm-security\n"
           "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
           "Types: deb\nURIs: http://off.example/\nSuites: x\nEnabled: no\n";
    std::ofstream(dir.path() / "sources.list.d/other.list.disabled")
        << "deb http://no.example/ x main\n";
    auto mirrors = host_sources(dir.path());
    ASSERT_EQ(mirrors.size(), 2u);
    EXPECT_EQ(mirrors[0].url, "http://one.example/debian");
    EXPECT_EQ(mirrors[0].suites, (std::vector<std::string>{"{dist}", "{dist}-updates"}));
    EXPECT_EQ(mirrors[0].components, (std::vector<std::string>{"main", "contrib"}));
    EXPECT_EQ(mirrors[1].url, "http://sec.example/debian-security");
    EXPECT_EQ(mirrors[1].suites, std::vector<std::string>{"{dist}-security"});
    EXPECT_EQ(mirrors[1].keyring, "/usr/share/keyrings/debian-archive-keyring.gpg");
    EXPECT_EQ(suites_for(mirrors[0], "trixie"),
              (std::vector<std::string>{"trixie", "trixie-updates"}));
}

TEST(Sources, NoSourcesNoMirrors) {
    TempDir dir;
    EXPECT_TRUE(host_sources(dir.path()).empty());
    config::Mirror m;
    m.url = "http://x";
    EXPECT_EQ(suites_for(m, "sid"), std::vector<std::string>{"sid"});
}

}  // namespace
}  // namespace dmc::apt
