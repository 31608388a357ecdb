#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "config/settings.hpp"
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
kubeconfig: /kube/config
context: prod
rollout_timeout: 60
force_conflicts: true
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
    EXPECT_EQ(s.kubeconfig, "/kube/config");
    EXPECT_EQ(s.kube_context, "prod");
    EXPECT_EQ(s.rollout_timeout, 60);
    EXPECT_TRUE(s.force_conflicts);
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

TEST(Settings, NamespaceIsADns1123LabelOrEmpty) {
    Settings s = defaults();
    apply_yaml(s, "namespace: team-1\n", "x.yaml");
    EXPECT_EQ(s.ns, "team-1");
    apply_yaml(s, "namespace: \"\"\n", "x.yaml");
    EXPECT_EQ(s.ns, "");
    for (const char* bad : {"Team", "a_b", "-a", "a-", "../x"}) {
        Settings t = defaults();
        EXPECT_THROW(apply_yaml(t, std::string("namespace: \"") + bad + "\"\n", "x.yaml"), Error)
            << bad;
    }
    Settings t = defaults();
    EXPECT_THROW(apply_yaml(t, "rollout_timeout: 0\n", "x.yaml"), Error);
}

TEST(Settings, SnapshotDatesAndService) {
    Settings s = defaults();
    apply_yaml(s, "snapshot: \"20250520\"\nsnapshot_url: http://snap.example/\n", "x.yaml");
    EXPECT_EQ(s.snapshot, "20250520T000000Z");
    EXPECT_EQ(s.snapshot_url, "http://snap.example");
    apply_option(s, "snapshot", "20250520T101500Z");
    EXPECT_EQ(s.snapshot, "20250520T101500Z");
    for (const char* bad : {"2025-05-20", "20250520T1015Z", "yesterday", "20250520T101500"})
        EXPECT_THROW(apply_option(s, "snapshot", bad), Error) << bad;
    Settings t = defaults();
    EXPECT_THROW(apply_yaml(t, "snapshot_url: ftp://snap.example\n", "x.yaml"), Error);
}

std::optional<std::string> xdg_env(const char* name) {
    if (std::string(name) == "XDG_CONFIG_HOME") return "/home/u/.config";
    return std::nullopt;
}

TEST(Settings, TheLockGoesNextToTheConfig) {
    Settings s = defaults();
    s.config_file = "/etc/dmc/site.yaml";
    EXPECT_EQ(default_lock_file(s, xdg_env), "/etc/dmc/site.lock");
    s.config_file.reset();
    EXPECT_EQ(default_lock_file(s, xdg_env), "/home/u/.config/dmc/dmc.lock");
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
    g_env = {{"DMC_ARCHS", "arm64"},     {"DMC_DIST", "sid"},     {"DMC_MIRROR", "http://m"},
             {"DMC_HOST", "r:1"},        {"DMC_NAMESPACE", "n"},  {"DMC_TOOLS", "1"},
             {"DMC_ROOTFSDIR", "/rf"},   {"DMC_CACHEDIR", "/c"},  {"IMAGEDIR", "/img"},
             {"OUT_level", "NONE"},      {"LOG_level", "DETAIL"}, {"LOG_dir", "/logs"},
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
)",
               "dmc.yaml");
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

    g_env = {{"DMC_INSECURE_REGISTRIES", "a,b"},  {"DMC_REGISTRY_CA", "/e.pem"},
             {"DMC_REGISTRY_CHUNK_SIZE", "5"},    {"DMC_REGISTRY_RETRIES", "0"},
             {"DMC_REGISTRY_USER", "u"},          {"DMC_REGISTRY_PASSWORD", "secret"},
             {"DMC_REGISTRY_PASSWORD_FILE", "/f"}};
    apply_environment(s, fake_env);
    EXPECT_EQ(s.insecure_registries, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(s.registry_ca, "/e.pem");
    EXPECT_EQ(s.registry_chunk_size, 5);
    EXPECT_EQ(s.registry_retries, 0);
    EXPECT_EQ(s.registry_user, "u");
    EXPECT_EQ(s.registry_password, "secret");
    EXPECT_EQ(s.registry_password_file, "/f");
    for (const auto& [key, value] : s.describe())
        EXPECT_EQ(value.find("secret"), std::string::npos) << key;
    g_env = {{"DMC_REGISTRY_CHUNK_SIZE", "big"}};
    EXPECT_THROW(apply_environment(s, fake_env), UsageError);
    g_env = {{"DMC_REGISTRY_RETRIES", "-1"}};
    EXPECT_THROW(apply_environment(s, fake_env), UsageError);
    g_env.clear();
}

// Every number is parsed by one rule, the whole text and in range, from any source.
TEST(Settings, NumbersAreParsedStrictlyFromEverySource) {
    for (const std::string bad : {"1e9", "3abc", "-1", "21", " 3", "0x3", ""}) {
        if (!bad.empty()) {
            EXPECT_NE(error_of("retries: '" + bad + "'\n")
                          .find("key 'retries' must be a number between 0 and 20"),
                      std::string::npos)
                << bad;
        }
        g_env = {{"DMC_RETRIES", bad}};
        Settings s = defaults();
        if (bad.empty()) {
            apply_environment(s, fake_env);  // an empty variable is an unset one
            EXPECT_EQ(s.retries, 4);
            continue;
        }
        try {
            apply_environment(s, fake_env);
            ADD_FAILURE() << "DMC_RETRIES=" << bad << " was accepted";
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find("must be a number between 0 and 20"),
                      std::string::npos)
                << e.what();
        }
    }
    EXPECT_NE(error_of("retries: 1e9\n").find("not '1e9'"), std::string::npos);
    for (const std::string bad : {"-1", "abc", "1.5"}) {
        g_env = {{"SOURCE_DATE_EPOCH", bad}};
        Settings s = defaults();
        EXPECT_THROW(apply_environment(s, fake_env), UsageError) << bad;
        EXPECT_NE(error_of("source_date_epoch: " + bad + "\n").find("source_date_epoch"),
                  std::string::npos);
    }
    g_env = {{"DMC_RETRIES", "7"}, {"DMC_RETRY_TIME", "5"}, {"DMC_STALL_TIMEOUT", "2"}};
    Settings s = defaults();
    apply_environment(s, fake_env);
    EXPECT_EQ(s.retries, 7);
    EXPECT_EQ(s.retry_time, 5);
    EXPECT_EQ(s.stall_timeout, 2);
    g_env = {{"DMC_STALL_TIMEOUT", "0"}};
    EXPECT_THROW(apply_environment(s, fake_env), UsageError);
    g_env.clear();
}

TEST(Settings, ListsDropRepeatsWhateverTheSource) {
    Settings s = defaults();
    apply_yaml(s, "archs: [amd64, amd64, arm64, amd64]\n", "dmc.yaml");
    EXPECT_EQ(s.archs, (std::vector<std::string>{"amd64", "arm64"}));
    apply_yaml(s, "archs: arm64,arm64\n", "dmc.yaml");
    EXPECT_EQ(s.archs, std::vector<std::string>{"arm64"});
    g_env = {{"DMC_ARCHS", "amd64,arm64,amd64"}};
    apply_environment(s, fake_env);
    EXPECT_EQ(s.archs, (std::vector<std::string>{"amd64", "arm64"}));
    g_env.clear();
    apply_option(s, "archs", "arm64,arm64");
    EXPECT_EQ(s.archs, std::vector<std::string>{"arm64"});
}

TEST(Settings, AKeyGivenTwiceNamesBothLines) {
    auto e = error_of("dist: trixie\narchs: [amd64]\ndist: sid\n");
    EXPECT_NE(e.find("dmc.yaml:3: key 'dist' is given twice (lines 1 and 3)"), std::string::npos)
        << e;
    auto nested = error_of("log:\n  out_level: TASK\n  out_level: INFO\n");
    EXPECT_NE(nested.find("'log.out_level' is given twice (lines 2 and 3)"), std::string::npos)
        << nested;
    auto mirror = error_of("mirrors:\n  - url: http://a\n    url: http://b\n");
    EXPECT_NE(mirror.find("'mirrors.url' is given twice"), std::string::npos) << mirror;
}

// Values that become path components are single safe names, wherever they come from.
TEST(Settings, NamesThatWouldEscapeTheirDirectoryAreRefused) {
    for (const std::string bad : {"/tmp/elsewhere", "../../x", "a/b", ".hidden", "..", "x y"}) {
        EXPECT_NE(error_of("dist: '" + bad + "'\n").find("key 'dist' must be a suite name"),
                  std::string::npos)
            << bad;
        Settings s = defaults();
        EXPECT_THROW(apply_option(s, "dist", bad), UsageError) << bad;
        g_env = {{"DMC_DIST", bad}};
        EXPECT_THROW(apply_environment(s, fake_env), UsageError) << bad;
        EXPECT_NE(error_of("archs: [amd64, '" + bad + "']\n").find("an architecture name"),
                  std::string::npos);
    }
    g_env.clear();
    EXPECT_NE(error_of("tag: ../x\n").find("key 'tag' must be an image tag"), std::string::npos);
    EXPECT_NE(error_of("templates:\n  ../php:\n    version: '8'\n").find("is not a template name"),
              std::string::npos);
    Settings s = defaults();
    apply_option(s, "dist", "trixie-backports");
    EXPECT_EQ(s.dist, "trixie-backports");
}

TEST(Settings, TemplateOptionNamesAreNamesWithoutDots) {
    EXPECT_NE(
        error_of("templates:\n  adminer:\n    php.version: '8.2'\n").find("is not an option name"),
        std::string::npos);
    Settings s = defaults();
    apply_yaml(s, "templates:\n  php:\n    version: '8.2'\n", "dmc.yaml");
    EXPECT_EQ(s.template_options["php"]["version"], "8.2");
}

TEST(Settings, ControlCharactersAreRefusedInEveryValue) {
    Settings s = defaults();
    try {
        apply_option(s, "dist", "tri\nxie");
        ADD_FAILURE() << "a newline was accepted";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("'tri\\nxie'"), std::string::npos) << e.what();
    }
    g_env = {{"DMC_REGISTRY_USER", "me\rroot"}};
    EXPECT_THROW(apply_environment(s, fake_env), UsageError);
    g_env = {{"LOG_dir", "/var/log\x1b[2J"}};
    EXPECT_THROW(apply_environment(s, fake_env), UsageError);
    g_env.clear();
    EXPECT_NE(error_of("keyring: \"/k\\x07.gpg\"\n").find("without control characters"),
              std::string::npos);
}

TEST(Settings, MirrorsOfSchemesDmcDoesNotFetchAreRefusedAtOnce) {
    EXPECT_NE(error_of("mirror: ftp://ftp.example/debian\n").find("dmc does not fetch ftp://"),
              std::string::npos);
    EXPECT_NE(error_of("mirrors:\n  - url: rsync://x/debian\n").find("rsync://"),
              std::string::npos);
    Settings s = defaults();
    EXPECT_THROW(apply_option(s, "mirrors", "ftp://x/debian"), UsageError);
    EXPECT_THROW(apply_option(s, "mirrors", "mirror.example/debian"), UsageError);
    apply_option(s, "mirrors", "https://mirror.example/debian");
    ASSERT_EQ(s.mirrors.size(), 1u);
    EXPECT_FALSE(unsupported_url("file:///srv/mirror"));
}

// The table is the one description of the settings: what the log shows includes
// everything that changes the image's bytes.
TEST(Settings, TheLogShowsEverySettingThatChangesTheImage) {
    Settings s = defaults();
    std::map<std::string, std::string> shown;
    for (const auto& [k, v] : s.describe()) shown[k] = v;
    for (const char* key : {"tag", "compression", "small", "lock_file", "source_date_epoch",
                            "tools", "dist", "archs", "mirrors", "retry_time", "stall_timeout"})
        EXPECT_EQ(shown.count(key), 1u) << key;
    EXPECT_EQ(default_text("dist"), "trixie");
    for (const auto& info : setting_infos())
        for (const auto& var : info.env) EXPECT_FALSE(var.empty()) << info.key;
}

TEST(Settings, DirectoriesNameTheirSetting) {
    Settings s = defaults();
    s.cache_dir = "/c";
    finalize(s);
    bool found = false;
    for (const auto& d : directories(s))
        if (d.setting.key == "cachedir") {
            found = true;
            EXPECT_EQ(d.dir, "/c");
            EXPECT_EQ(setting_name(d.setting), "cachedir (DMC_CACHEDIR)");
        }
    EXPECT_TRUE(found);
}

}  // namespace
}  // namespace dmc::config
