#include "config/settings.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "util/error.hpp"
#include "util/fs.hpp"

namespace dmc::config {
namespace {

std::string error_of(const std::string& yaml) {
    Settings s = defaults();
    try {
        apply_yaml(s, yaml, "dmc.yaml");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Settings, EveryKeyOfTheDocumentedConfigFileLoads) {
    Settings s = defaults();
    apply_file(s, std::string(DMC_SOURCE_DIR) + "/conf/dmc.yaml");
    EXPECT_EQ(s.dist, "trixie");
    EXPECT_EQ(s.archs, (std::vector<std::string>{"amd64", "arm64"}));
}

TEST(Settings, AllKeys) {
    Settings s = defaults();
    apply_yaml(s, R"(
archs: amd64, arm64
dist: bookworm
mirrors:
  - url: http://a/debian
    suites: ["{dist}", "{dist}-updates"]
    components: [main, contrib]
  - url: http://b/debian-security
    suites: "{dist}-security"
    keyring: /k.gpg
    archs: [amd64]
keyring: /usr/share/keyrings/x.gpg
allow_unsigned: true
registry: reg.local:5000/team
namespace: web
tools: true
small: true
tag: v1
compression: zstd
source_date_epoch: 1700000000
jobs: 8
sourcedir: /s
rootfsdir: /r
builddir: /b
imagedir: /i
cachedir: /c
plugin_dirs: [/p1, /p2]
log:
  out_level: TASK
  log_level: all
  log_dir: /var/log/dmc
templates:
  php:
    version: "8.2"
)",
               "x.yaml");
    EXPECT_EQ(s.archs.size(), 2u);
    EXPECT_EQ(s.dist, "bookworm");
    ASSERT_EQ(s.mirrors.size(), 2u);
    EXPECT_EQ(s.mirrors[0].suites, (std::vector<std::string>{"{dist}", "{dist}-updates"}));
    EXPECT_EQ(s.mirrors[0].components, (std::vector<std::string>{"main", "contrib"}));
    EXPECT_EQ(s.mirrors[1].keyring, "/k.gpg");
    EXPECT_EQ(s.mirrors[1].archs, std::vector<std::string>{"amd64"});
    EXPECT_TRUE(s.allow_unsigned);
    EXPECT_EQ(s.registry, "reg.local:5000/team");
    EXPECT_EQ(s.ns, "web");
    EXPECT_TRUE(s.tools);
    EXPECT_TRUE(s.small);
    EXPECT_EQ(s.tag, "v1");
    EXPECT_EQ(s.compression, "zstd");
    EXPECT_EQ(*s.source_date_epoch, 1700000000);
    EXPECT_EQ(s.jobs, 8);
    EXPECT_EQ(s.rootfs_dir, "/r");
    EXPECT_EQ(s.cache_dir, "/c");
    EXPECT_EQ(s.plugin_dirs.size(), 2u);
    EXPECT_EQ(s.log.console, log::Level::task);
    EXPECT_EQ(s.log.file, log::Level::all);
    EXPECT_EQ(*s.log.dir, "/var/log/dmc");
    EXPECT_EQ(s.template_options["php"]["version"], "8.2");
}

TEST(Settings, UnknownKeyNamesTheKeyAndLine) {
    auto e = error_of("dist: trixie\n\narchz: [amd64]\n");
    EXPECT_NE(e.find("dmc.yaml:3"), std::string::npos) << e;
    EXPECT_NE(e.find("unknown key 'archz'"), std::string::npos) << e;
    auto nested = error_of("log:\n  out_levle: TASK\n");
    EXPECT_NE(nested.find("dmc.yaml:2"), std::string::npos) << nested;
    EXPECT_NE(nested.find("'log.out_levle'"), std::string::npos) << nested;
}

TEST(Settings, WrongTypeNamesTheKeyAndLine) {
    auto e = error_of("dist: trixie\ntools: maybe\n");
    EXPECT_NE(e.find("dmc.yaml:2"), std::string::npos) << e;
    EXPECT_NE(e.find("'tools'"), std::string::npos) << e;
    EXPECT_NE(error_of("archs: {a: b}\n").find("'archs' must be a list"), std::string::npos);
    EXPECT_NE(error_of("dist: [a]\n").find("'dist' must be a string"), std::string::npos);
    EXPECT_NE(error_of("jobs: many\n").find("'jobs' must be a number"), std::string::npos);
    EXPECT_NE(error_of("log:\n  out_level: LOUD\n").find("must be one of NONE"), std::string::npos);
    EXPECT_NE(error_of("compression: lz4\n").find("gzip or zstd"), std::string::npos);
}

TEST(Settings, MalformedYamlNamesTheLine) {
    auto e = error_of("dist: trixie\narchs: [amd64\n");
    EXPECT_NE(e.find("malformed YAML"), std::string::npos) << e;
    EXPECT_NE(e.find("dmc.yaml:"), std::string::npos) << e;
}

TEST(Settings, MissingConfigFileIsAnError) {
    Settings s = defaults();
    EXPECT_THROW(apply_file(s, "/nonexistent/dmc.yaml"), Error);
}

std::map<std::string, std::string> g_env;
std::optional<std::string> fake_env(const char* name) {
    auto it = g_env.find(name);
    if (it == g_env.end()) return std::nullopt;
    return it->second;
}

TEST(Settings, EnvironmentVariables) {
    g_env = {{"DMC_ARCHS", "arm64"},        {"DMC_DIST", "sid"},    {"DMC_MIRROR", "http://m"},
             {"DMC_HOST", "r:1"},           {"DMC_NAMESPACE", "n"}, {"DMC_TOOLS", "1"},
             {"DMC_ROOTFSDIR", "/rf"},      {"DMC_CACHEDIR", "/c"}, {"IMAGEDIR", "/img"},
             {"OUT_level", "NONE"},         {"LOG_level", "DETAIL"}, {"LOG_dir", "/logs"},
             {"SOURCE_DATE_EPOCH", "42"}};
    Settings s = defaults();
    apply_environment(s, fake_env);
    EXPECT_EQ(s.archs, std::vector<std::string>{"arm64"});
    EXPECT_EQ(s.dist, "sid");
    ASSERT_EQ(s.mirrors.size(), 1u);
    EXPECT_EQ(s.mirrors[0].url, "http://m");
    EXPECT_EQ(s.registry, "r:1");
    EXPECT_EQ(s.ns, "n");
    EXPECT_TRUE(s.tools);
    EXPECT_EQ(s.rootfs_dir, "/rf");
    EXPECT_EQ(s.cache_dir, "/c");
    EXPECT_EQ(s.image_dir, "/img");
    EXPECT_EQ(s.log.console, log::Level::none);
    EXPECT_EQ(s.log.file, log::Level::detail);
    EXPECT_EQ(*s.log.dir, "/logs");
    EXPECT_EQ(*s.source_date_epoch, 42);
    g_env = {{"OUT_level", "LOUD"}};
    EXPECT_THROW(apply_environment(s, fake_env), UsageError);
    g_env.clear();
}

TEST(Settings, DirectoriesFollowTheCacheDirUnlessSet) {
    Settings s = defaults();
    s.cache_dir = "/cache";
    s.build_dir = "/elsewhere";
    finalize(s);
    EXPECT_EQ(s.rootfs_dir, "/cache/rootfs");
    EXPECT_EQ(s.build_dir, "/elsewhere");
}

TEST(Settings, SplitList) {
    EXPECT_EQ(split_list(" a, b ,,c "), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_TRUE(split_list("").empty());
}

TEST(Settings, RegistryKeys) {
    Settings s = defaults();
    EXPECT_EQ(s.registry_chunk_size, 0);
    EXPECT_EQ(s.registry_retries, 4);
    apply_yaml(s, R"(
insecure_registries: [reg.lan:5000, other]
registry_ca: /ca.pem
registry_chunk_size: 1048576
registry_retries: 2
registry_user: me
registry_password_file: /pw
)", "dmc.yaml");
    EXPECT_EQ(s.insecure_registries, (std::vector<std::string>{"reg.lan:5000", "other"}));
    EXPECT_EQ(s.registry_ca, "/ca.pem");
    EXPECT_EQ(s.registry_chunk_size, 1048576);
    EXPECT_EQ(s.registry_retries, 2);
    EXPECT_EQ(s.registry_user, "me");
    EXPECT_EQ(s.registry_password_file, "/pw");
    EXPECT_NE(error_of("registry_chunk_size: -1").find("registry_chunk_size"), std::string::npos);
    EXPECT_NE(error_of("registry_retries: 99").find("between 0 and 20"), std::string::npos);
    // The password has no config key: it stays out of files that get shared.
    EXPECT_NE(error_of("registry_password: x").find("unknown key"), std::string::npos);

    g_env = {{"DMC_INSECURE_REGISTRIES", "a,b"}, {"DMC_REGISTRY_CA", "/e.pem"},
             {"DMC_REGISTRY_CHUNK_SIZE", "5"},   {"DMC_REGISTRY_RETRIES", "0"},
             {"DMC_REGISTRY_USER", "u"},         {"DMC_REGISTRY_PASSWORD", "secret"},
             {"DMC_REGISTRY_PASSWORD_FILE", "/f"}};
    apply_environment(s, fake_env);
    EXPECT_EQ(s.insecure_registries, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(s.registry_ca, "/e.pem");
    EXPECT_EQ(s.registry_chunk_size, 5);
    EXPECT_EQ(s.registry_retries, 0);
    EXPECT_EQ(s.registry_user, "u");
    EXPECT_EQ(s.registry_password, "secret");
    EXPECT_EQ(s.registry_password_file, "/f");
    for (const auto& [key, value] : s.describe()) EXPECT_EQ(value.find("secret"), std::string::npos) << key;
    g_env = {{"DMC_REGISTRY_CHUNK_SIZE", "big"}};
    EXPECT_THROW(apply_environment(s, fake_env), UsageError);
    g_env = {{"DMC_REGISTRY_RETRIES", "-1"}};
    EXPECT_THROW(apply_environment(s, fake_env), UsageError);
    g_env.clear();
}

}  // namespace
}  // namespace dmc::config
