#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "plugin/catalog.hpp"
#include "plugin/hooks.hpp"
#include "plugin/manifest.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc::plugin {
namespace {

class ManifestTest : public ::testing::Test {
  protected:
    fs::path write(const std::string& name, const std::string& text) {
        std::ofstream(dir() / name) << text;
        return dir() / name;
    }
    // The error loading `text` as a template gives, or "" when it loads.
    std::string error_of(const std::string& text) {
        try {
            load_manifest_template(write("t.dmc.yaml", text));
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    }
    const fs::path& dir() const { return temp_.path(); }
    TempDir temp_{"dmc-manifest-test"};
};

TEST_F(ManifestTest, ATemplateInYamlRunsTheSdksHooks) {
    write("site.conf", "server {}\n");
    write("web.dmc.yaml", R"(name: yaml-web
version: "2.1"
group: app
description: a web server written as YAML
builds_on: [base]
options:
  port: {default: "8080", description: the port}
prepare:
  packages: [web, "web-${arch}"]
  exclude: [web-doc]
  want: [system-users]
  alternatives: {"web-${multiarch}": "/usr/lib/${multiarch}/web/libweb.so"}
collect:
  paths: [/usr/sbin/web]
  dlopened: ["/usr/lib/web/*.so"]
  allow_setid: [/usr/sbin/web]
configure:
  system_users: [www-data]
  users: [{name: app, uid: 1000, gid: 1000, home: /srv}]
  groups: [{name: app, gid: 1000}]
  remove: [/etc/web/default]
  dirs: [{path: /var/lib/web, mode: "0750", owner: www-data}, {path: /srv, owner: app}]
  files:
    - {path: /etc/web/site.conf, source: site.conf}
    - {path: /etc/web/port, content: "${option.port}\n", mode: "0600", owner: app}
  copy: [{from: /usr/share/web/index.html, to: /srv/index.html}]
  symlinks: [{path: /var/log/web.log, target: /dev/stderr}]
  entrypoint: [/usr/sbin/web, --port, "${option.port}"]
  env: {WEB_MODE: production}
  user: www-data
  workdir: /srv
  expose: ["${option.port}/tcp"]
  labels: {org.example.dist: "${dist}"}
  stop_signal: SIGQUIT
)");
    Catalog catalog;
    catalog.load_dirs({dir()});
    const Template* t = catalog.find("yaml-web");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->version, "2.1");
    EXPECT_EQ(t->group, "app");
    EXPECT_EQ(t->builds_on, std::vector<std::string>{"base"});
    ASSERT_TRUE(t->options);
    EXPECT_EQ(t->options->at(0).default_value, "8080");

    const HookSettings settings{{"template", "yaml-web"},
                                {"arch", "arm64"},
                                {"multiarch", "aarch64-linux-gnu"},
                                {"dist", "trixie"},
                                {"option.port", "9090"}};
    PrepareResult p;
    run_prepare(*t, settings, p);
    EXPECT_EQ(p.packages, (std::vector<std::string>{"web", "web-arm64"}));
    EXPECT_EQ(p.excludes, std::vector<std::string>{"web-doc"});
    EXPECT_EQ(p.alternatives.at("web-aarch64-linux-gnu"),
              "/usr/lib/aarch64-linux-gnu/web/libweb.so");
    CollectResult c;
    run_collect(*t, settings, c);
    EXPECT_EQ(c.dlopened, std::vector<std::string>{"/usr/lib/web/*.so"});
    EXPECT_EQ(c.allow_setid, std::vector<std::string>{"/usr/sbin/web"});

    RootfsReader reader = [](const std::string& path) -> std::optional<std::string> {
        if (path == "/etc/passwd") return "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n";
        if (path == "/etc/group") return "www-data:x:33:\n";
        if (path == "/usr/share/web/index.html") return "<html/>";
        return std::nullopt;
    };
    ConfigureResult r;
    run_configure(*t, settings, reader, r);
    ASSERT_EQ(r.files.size(), 3u);
    EXPECT_EQ(r.files[0].path, "/etc/web/site.conf");
    EXPECT_EQ(r.files[0].data, "server {}\n");
    EXPECT_EQ(r.files[1].data, "9090\n");
    EXPECT_EQ(r.files[1].mode, 0600u);
    EXPECT_EQ(r.files[1].uid, 1000u);
    EXPECT_EQ(r.files[2].data, "<html/>");
    ASSERT_EQ(r.dirs.size(), 2u);
    EXPECT_EQ(r.dirs[0].uid, 33u);
    EXPECT_EQ(r.dirs[0].mode, 0750u);
    EXPECT_EQ(r.removals, std::vector<std::string>{"/etc/web/default"});
    EXPECT_EQ(r.image.entrypoint, (std::vector<std::string>{"/usr/sbin/web", "--port", "9090"}));
    EXPECT_EQ(r.image.user, "www-data");
    EXPECT_EQ(r.image.workdir, "/srv");
    EXPECT_EQ(r.image.stop_signal, "SIGQUIT");
    EXPECT_EQ(r.image.labels.at("org.example.dist"), "trixie");
    EXPECT_EQ(r.image.ports, std::vector<std::string>{"9090/tcp"});
    EXPECT_EQ(r.image.env,
              (std::vector<std::pair<std::string, std::string>>{{"WEB_MODE", "production"}}));
}

// plugins/nginx/nginx.dmc.yaml makes the Kubernetes objects the C++ nginx template makes.
TEST_F(ManifestTest, TheYamlNginxDeploysAsTheCppOne) {
    for (const char* f : {"nginx.dmc.yaml", "nginx.conf", "default-site.conf"})
        fs::copy_file(fs::path(DMC_SOURCE_DIR) / "plugins/nginx" / f, dir() / f);
    Catalog cpp, yaml;
    cpp.load_dirs({DMC_BUILTIN_PLUGIN_DIR});
    yaml.load_dirs({dir()});
    ASSERT_EQ(yaml.find("nginx")->file, dir() / "nginx.dmc.yaml");
    const HookSettings settings{{"template", "nginx"},
                                {"image_template", "nginx"},
                                {"image", "registry.example/nginx@sha256:" + std::string(64, 'a')},
                                {"image_version", "1.26.3-3"},
                                {"uid", "33"},
                                {"gid", "33"}};
    DeployResult from_cpp, from_yaml;
    run_deploy(*cpp.find("nginx"), settings, from_cpp);
    run_deploy(*yaml.find("nginx"), settings, from_yaml);
    ASSERT_EQ(from_cpp.objects.size(), 3u);
    EXPECT_EQ(from_yaml.objects, from_cpp.objects);
}

TEST_F(ManifestTest, ErrorsNameTheFileTheLineAndTheKey) {
    const std::string file = (dir() / "t.dmc.yaml").string();
    EXPECT_EQ(error_of("name: x\nprepare:\n  pakages: [a]\n"),
              file +
                  ":3: unknown key 'prepare.pakages' (valid keys: alternatives, exclude, "
                  "packages, want)");
    EXPECT_EQ(error_of("name: x\ncollect:\n  paths: /usr/bin/x\n"),
              file + ":3: key 'collect.paths' must be a list");
    EXPECT_EQ(error_of("name: x\nconfigure:\n  dirs:\n    - {path: /a, mode: \"0x9\"}\n"),
              file + ":4: key 'configure.dirs.mode' must be an octal mode such as \"0644\"");
    EXPECT_EQ(
        error_of("name: x\nconfigure:\n  files:\n    - {path: /a, source: ../../etc/shadow}\n"),
        file +
            ":4: key 'configure.files.source' must name a file next to the template, "
            "without ..");
    EXPECT_EQ(error_of("name: x\nconfigure:\n  files:\n    - {path: /a}\n"),
              file + ":4: key 'configure.files' needs either source or content");
    EXPECT_EQ(error_of("version: 1\n"), file + ":1: key 'name' is missing: every template has one");
    EXPECT_EQ(error_of("name: ../x\n").rfind(file + ":1: key 'name' is not valid: ", 0), 0u);
    EXPECT_EQ(error_of("name: x\nname: y\n"),
              file + ":2: key 'name' is given twice (lines 1 and 2); keep one");
    EXPECT_NE(error_of("name: [x\n").find(file + ":2: malformed YAML"), std::string::npos);
    EXPECT_EQ(
        error_of(
            "name: x\ndeploy:\n  services:\n    - {name: x, component: y, ports: {http: web}}\n"),
        file + ":4: key 'deploy.services.ports.http' must be a number");
    EXPECT_EQ(error_of("name: x\ndeploy:\n  deployments:\n    - name: x\n      component: y\n"
                       "      containers: [{name: c, readyness: {}}]\n"),
              file +
                  ":6: unknown key 'deploy.deployments.containers.readyness' (valid keys: args, "
                  "claims, command, config_files, cpu, env, existing_claims, liveness, memory, "
                  "memory_limit, name, ports, readiness, secret_env, secret_files, writable)");
}

TEST_F(ManifestTest, AnOwnerTheTemplateDoesNotDeclareFailsTheHook) {
    write("o.dmc.yaml", "name: owned\nconfigure:\n  dirs: [{path: /d, owner: ghost}]\n");
    Catalog catalog;
    catalog.load_dirs({dir()});
    ConfigureResult r;
    RootfsReader none = [](const std::string&) { return std::nullopt; };
    try {
        run_configure(*catalog.find("owned"), {{"template", "owned"}}, none, r);
        FAIL() << "an unknown owner was taken";
    } catch (const Error& e) {
        EXPECT_NE(
            std::string(e.what()).find("/d is owned by ghost, whom this template does not declare"),
            std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace dmc::plugin
