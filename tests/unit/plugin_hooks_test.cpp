#include <gtest/gtest.h>

#include "plugin/hooks.hpp"
#include "util/error.hpp"

namespace dmc::plugin {
namespace {

const char* const kPasswdMaster = "/usr/share/base-passwd/passwd.master";
const char* const kBasePasswd =
    "root:*:0:0:root:/root:/bin/bash\n"
    "www-data:*:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    "nobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";

const Template& hello() {
    static Catalog r;
    static bool loaded = false;
    if (!loaded) {
        r.load_dirs({std::filesystem::path(DMC_TEST_PLUGIN_DIR) / "external"});
        loaded = true;
    }
    return *r.find("hello");
}

TEST(Hooks, PluginsOfOlderAndNewerStructSizesRunTheirHooks) {
    Catalog r;
    r.load_dirs({std::filesystem::path(DMC_TEST_PLUGIN_DIR) / "abi"});
    PrepareResult old_result, new_result;
    run_prepare(*r.find("old-abi"), {}, old_result);
    run_prepare(*r.find("new-abi"), {}, new_result);
    EXPECT_EQ(old_result.packages, std::vector<std::string>{"old-package"});
    EXPECT_EQ(new_result.packages, std::vector<std::string>{"new-package"});
    DeployResult d;
    run_deploy(*r.find("old-abi"), {}, d);  // no deploy hook: nothing happens
    EXPECT_TRUE(d.objects.empty());
}

TEST(Hooks, PrepareGathersPackagesAndExcludes) {
    PrepareResult r;
    run_prepare(hello(), {{"arch", "arm64"}}, r);
    EXPECT_EQ(r.packages, std::vector<std::string>{"hello"});
    EXPECT_EQ(r.excludes, std::vector<std::string>{"hello-doc"});
}

TEST(Hooks, AnExceptionInAHookBecomesAnErrorNamingTheTemplate) {
    PrepareResult r;
    try {
        run_prepare(hello(), {{"option.fail", "prepare"}}, r);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "template hello: prepare failed: asked to fail");
    }
}

TEST(Hooks, CollectAndConfigureSeeSettingsAndOptions) {
    CollectResult c;
    run_collect(hello(), {}, c);
    EXPECT_EQ(c.paths, std::vector<std::string>{"/usr/bin/hello"});
    EXPECT_TRUE(c.allow_setid.empty());
    CollectResult setid;
    run_collect(hello(), {{"option.setid", "/usr/bin/hello-*"}}, setid);
    EXPECT_EQ(setid.allow_setid, std::vector<std::string>{"/usr/bin/hello-*"});
    ConfigureResult r;
    run_configure(hello(), {{"dist", "trixie"}, {"option.greeting", "moin"}}, nullptr, r);
    ASSERT_EQ(r.files.size(), 1u);
    EXPECT_EQ(r.files[0].path, "/etc/hello.conf");
    EXPECT_EQ(r.files[0].data, "greeting=moin\n");
    EXPECT_EQ(r.files[0].mode, 0644u);
    EXPECT_EQ(r.image.entrypoint, std::vector<std::string>{"/usr/bin/hello"});
    EXPECT_EQ(r.image.env.at(0), (std::pair<std::string, std::string>{"LANG", "C.UTF-8"}));
    EXPECT_EQ(r.image.labels.at("org.example.hello"), "trixie");
}

TEST(Hooks, ConfigureListsTheRootfs) {
    ConfigureResult r;
    RootfsLister lister = [](const std::string& pattern) {
        EXPECT_EQ(pattern, "/usr/share/hello/*.txt");
        return std::vector<std::string>{"/usr/share/hello/a.txt", "/usr/share/hello/b.txt"};
    };
    run_configure(hello(), {}, nullptr, r, lister);
    ASSERT_EQ(r.files.size(), 2u);
    EXPECT_EQ(r.files[1].path, "/etc/hello.found");
    EXPECT_EQ(r.files[1].data, "/usr/share/hello/a.txt;/usr/share/hello/b.txt;");
}

TEST(Hooks, BuiltinPhpRefusesABadVersionOption) {
    Catalog reg;
    reg.load_dirs({DMC_BUILTIN_PLUGIN_DIR});
    PrepareResult r;
    try {
        run_prepare(*reg.find("php"), {{"option.version", "8.4; rm"}}, r);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "template php: prepare failed: option templates.php.version='8.4; rm' "
                     "is not a PHP version such as 8.4");
    }
    PrepareResult ok;
    run_prepare(*reg.find("php"), {{"option.version", "8.2"}}, ok);
    EXPECT_EQ(ok.packages.front(), "php8.2-fpm");
}

TEST(Hooks, BuiltinPhpKeepsPhpFpmOnLoopbackInsideAnotherImage) {
    Catalog reg;
    reg.load_dirs({DMC_BUILTIN_PLUGIN_DIR});
    RootfsReader reader = [](const std::string& path) {
        return std::optional<std::string>(path == "/etc/passwd" ? kBasePasswd : "x");
    };
    RootfsLister lister = [](const std::string&) {
        return std::vector<std::string>{"/usr/share/php8.4-common/common/ctype.ini"};
    };
    auto pool_of = [&](const std::string& image) {
        ConfigureResult r;
        run_configure(*reg.find("php"), {{"template", "php"}, {"image_template", image}}, reader, r,
                      lister);
        for (const auto& f : r.files)
            if (f.path == "/etc/php/8.4/fpm/pool.d/www.conf") return f.data;
        return std::string();
    };
    EXPECT_NE(pool_of("php").find("\nlisten = 9000\n"), std::string::npos);
    EXPECT_NE(
        pool_of("adminer").find("\nlisten = 127.0.0.1:9000\nlisten.allowed_clients = 127.0.0.1\n"),
        std::string::npos);
}

TEST(Hooks, BuiltinNginxReadsTheRootfs) {
    Catalog reg;
    reg.load_dirs({DMC_BUILTIN_PLUGIN_DIR});
    ConfigureResult r;
    RootfsReader reader = [](const std::string& path) -> std::optional<std::string> {
        if (path == "/usr/share/nginx/html/index.html") return "<h1>Welcome</h1>";
        if (path == kPasswdMaster) return kBasePasswd;
        return std::nullopt;
    };
    run_configure(*reg.find("nginx"), {}, reader, r);
    // www-data with base-passwd's ids, not numbers of the template's own.
    ASSERT_EQ(r.users.size(), 1u);
    EXPECT_EQ(r.users[0].uid, 33u);
    EXPECT_EQ(r.users[0].home, "/var/www");
    ASSERT_EQ(r.groups.size(), 1u);
    EXPECT_EQ(r.groups[0].gid, 33u);
    bool page = false;
    for (const auto& f : r.files)
        if (f.path == "/var/www/html/index.nginx-debian.html" && f.data == "<h1>Welcome</h1>")
            page = true;
    EXPECT_TRUE(page);
    EXPECT_EQ(r.image.user, "www-data");
    EXPECT_EQ(r.image.ports, std::vector<std::string>{"8080/tcp"});
    ConfigureResult none;
    EXPECT_THROW(run_configure(
                     *reg.find("nginx"), {},
                     [](const std::string&) { return std::optional<std::string>(); }, none),
                 Error);
}

}  // namespace
}  // namespace dmc::plugin
