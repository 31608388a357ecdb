#include "cli/cli.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "util/error.hpp"
#include "util/fs.hpp"

namespace dmc::cli {
namespace {

using Strings = std::vector<std::string>;

TEST(Cli, EveryShortOptionOfTheSeed) {
    auto o = parse(Strings{"-A",       "amd64",       "-D",
                           "bookworm", "-M",          "http://m/debian",
                           "-H",       "reg:5000/ns", "-T",
                           "-X",       "-t",          "nginx,php",
                           "-g",       "core,base",   "-a",
                           "create",   "-l",          "-b",
                           "2",        "-e",          "nginx.amd64.pack",
                           "-N",       "web"});
    EXPECT_EQ(*o.archs, Strings{"amd64"});
    EXPECT_EQ(*o.dist, "bookworm");
    EXPECT_EQ(*o.mirror, "http://m/debian");
    EXPECT_EQ(*o.host, "reg:5000/ns");
    EXPECT_TRUE(o.tools);
    EXPECT_TRUE(o.remove);
    EXPECT_EQ(*o.templates, (Strings{"nginx", "php"}));
    EXPECT_EQ(*o.groups, (Strings{"core", "base"}));
    EXPECT_EQ(*o.activity, "create");
    EXPECT_TRUE(o.list);
    EXPECT_EQ(*o.begin, "2");
    EXPECT_EQ(*o.end, "nginx.amd64.pack");
    EXPECT_EQ(*o.ns, "web");
}

TEST(Cli, EveryLongOption) {
    auto o = parse(Strings{"--archs",
                           "arm64,amd64",
                           "--dist",
                           "trixie",
                           "--mirror",
                           "http://x",
                           "--host",
                           "r",
                           "--tools",
                           "--delete",
                           "--templates",
                           "mariadb",
                           "--groups",
                           "app",
                           "--activity",
                           "load",
                           "--list",
                           "--only",
                           "3",
                           "--namespace",
                           "n",
                           "--config",
                           "/c.yaml",
                           "--plugin-dir",
                           "/a",
                           "--plugin-dir",
                           "/b",
                           "--imagedir",
                           "/img",
                           "--small",
                           "--allow-unsigned",
                           "--version",
                           "--help"});
    EXPECT_EQ(*o.archs, (Strings{"arm64", "amd64"}));
    EXPECT_EQ(*o.dist, "trixie");
    EXPECT_EQ(*o.mirror, "http://x");
    EXPECT_EQ(*o.host, "r");
    EXPECT_TRUE(o.tools && o.remove && o.list && o.small && o.allow_unsigned && o.version &&
                o.help);
    EXPECT_EQ(*o.templates, Strings{"mariadb"});
    EXPECT_EQ(*o.groups, Strings{"app"});
    EXPECT_EQ(*o.activity, "load");
    EXPECT_EQ(*o.only, "3");
    EXPECT_EQ(*o.ns, "n");
    EXPECT_EQ(*o.config, "/c.yaml");
    EXPECT_EQ(o.plugin_dirs, (Strings{"/a", "/b"}));
    EXPECT_EQ(*o.imagedir, "/img");
}

TEST(Cli, KubernetesOptions) {
    auto o = parse(Strings{"-a", "deploy", "--kubeconfig", "/k", "--context", "prod",
                           "--force-conflicts", "--print", "out"});
    EXPECT_EQ(*o.kubeconfig, "/k");
    EXPECT_EQ(*o.context, "prod");
    EXPECT_TRUE(o.force_conflicts);
    EXPECT_EQ(*o.print, "out");
    EXPECT_TRUE(o.arguments.empty());
    EXPECT_EQ(*parse(Strings{"-a", "deploy", "--print"}).print, "-");  // stdout
    EXPECT_EQ(*parse(Strings{"--print=dir", "deploy"}).print, "dir");
    EXPECT_FALSE(parse(Strings{"deploy"}).print.has_value());
    const auto s = effective_settings(
        o, [](const char*) -> std::optional<std::string> { return std::nullopt; });
    EXPECT_EQ(s.kubeconfig, "/k");
    EXPECT_EQ(s.kube_context, "prod");
    EXPECT_TRUE(s.force_conflicts);
    EXPECT_EQ(s.ns, "");  // the context's, else default
}

TEST(Cli, ActivityAsPositionalArgument) {
    auto o = parse(Strings{"setup"});
    EXPECT_EQ(*o.activity, "setup");
    EXPECT_TRUE(o.arguments.empty());
    auto r = parse(Strings{"-a", "resolve", "nginx", "curl"});
    EXPECT_EQ(*r.activity, "resolve");
    EXPECT_EQ(r.arguments, (Strings{"nginx", "curl"}));
    auto p = parse(Strings{"resolve", "nginx"});
    EXPECT_EQ(*p.activity, "resolve");
    EXPECT_EQ(p.arguments, Strings{"nginx"});
}

TEST(Cli, DefaultsWhenNothingIsGiven) {
    auto o = parse(Strings{});
    EXPECT_FALSE(o.archs || o.dist || o.activity || o.begin || o.templates);
    EXPECT_FALSE(o.tools || o.remove || o.list || o.help);
}

TEST(Cli, UnknownOptionIsAUsageError) {
    try {
        parse(Strings{"--frobnicate"});
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("frobnicate"), std::string::npos);
        EXPECT_EQ(e.code, 2);
    }
    EXPECT_THROW(parse(Strings{"-A"}), UsageError);       // missing value
    EXPECT_THROW(parse(Strings{"-A", ","}), UsageError);  // empty list
    EXPECT_THROW(parse(Strings{"-o", "1", "-b", "2"}), UsageError);
}

std::optional<std::string> no_env(const char*) { return std::nullopt; }

std::map<std::string, std::string> g_env;
std::optional<std::string> fake_env(const char* name) {
    auto it = g_env.find(name);
    if (it == g_env.end()) return std::nullopt;
    return it->second;
}

TEST(Cli, BuiltInDefaults) {
    auto s = effective_settings(parse(Strings{}), no_env);
    EXPECT_EQ(s.archs, (Strings{"amd64", "arm64"}));
    EXPECT_EQ(s.dist, "trixie");
    EXPECT_TRUE(s.mirrors.empty());
    EXPECT_EQ(s.image_dir, "images");
    EXPECT_FALSE(s.rootfs_dir.empty());
}

TEST(Cli, PrecedenceCommandLineOverEnvironmentOverFileOverDefaults) {
    TempDir dir;
    auto file = dir.path() / "dmc.yaml";
    std::ofstream(file) << "dist: bookworm\narchs: [arm64]\nnamespace: fromfile\n"
                           "registry: file.example:5000\nimagedir: /from/file\n";
    g_env = {{"DMC_DIST", "sid"}, {"DMC_NAMESPACE", "fromenv"}, {"IMAGEDIR", "/from/env"}};
    auto s =
        effective_settings(parse(Strings{"--config", file.string(), "-D", "trixie"}), fake_env);
    EXPECT_EQ(s.dist, "trixie");                 // command line beats env and file
    EXPECT_EQ(s.ns, "fromenv");                  // env beats file
    EXPECT_EQ(s.image_dir, "/from/env");         // env beats file
    EXPECT_EQ(s.archs, Strings{"arm64"});        // file beats defaults
    EXPECT_EQ(s.registry, "file.example:5000");  // file only
    auto cli = effective_settings(
        parse(Strings{"--config", file.string(), "-N", "cli", "--imagedir", "/cli"}), fake_env);
    EXPECT_EQ(cli.ns, "cli");
    EXPECT_EQ(cli.image_dir, "/cli");
    g_env.clear();
}

TEST(Cli, ConfigFileFromEnvironment) {
    TempDir dir;
    auto file = dir.path() / "c.yaml";
    std::ofstream(file) << "dist: bookworm\n";
    g_env = {{"DMC_CONFIG", file.string()}};
    EXPECT_EQ(effective_settings(parse(Strings{}), fake_env).dist, "bookworm");
    g_env.clear();
}

TEST(Cli, PluginDirOrder) {
    TempDir dir;
    auto file = dir.path() / "c.yaml";
    std::ofstream(file) << "plugin_dirs: [/from/file]\n";
    g_env = {{"DMC_PLUGIN_PATH", "/env/a:/env/b"}};
    auto s = effective_settings(parse(Strings{"--config", file.string(), "--plugin-dir", "/cli"}),
                                fake_env);
    ASSERT_EQ(s.plugin_dirs.size(), 4u);
    EXPECT_EQ(s.plugin_dirs[0], "/cli");
    EXPECT_EQ(s.plugin_dirs[1], "/env/a");
    EXPECT_EQ(s.plugin_dirs[2], "/env/b");
    EXPECT_EQ(s.plugin_dirs[3], "/from/file");
    g_env.clear();
}

TEST(Cli, HelpHasTheSeedLayout) {
    auto text = help_text({{"nginx", "web"}}, {{"core", "c"}}, {{"create", "Create"}});
    EXPECT_EQ(text.rfind("dmc: Debian Micro Container images creator\n", 0), 0u);
    EXPECT_NE(text.find("-A|--archs ARCHS         : Architectures to build for"),
              std::string::npos);
    EXPECT_NE(text.find("(DEFAULT: amd64,arm64)"), std::string::npos);
    EXPECT_NE(text.find("Available values for TMPTS"), std::string::npos);
    EXPECT_NE(text.find("nginx                    : web"), std::string::npos);
    EXPECT_NE(text.find("core                     : c"), std::string::npos);
    EXPECT_NE(text.find("create                   : Create"), std::string::npos);
}

}  // namespace
}  // namespace dmc::cli
