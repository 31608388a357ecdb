#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "registry/auth.hpp"
#include "util/base64.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using namespace dmc::registry;
using dmc::base64_encode;

namespace {

void write(const fs::path& p, const std::string& text, bool executable = false) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    if (executable) ::chmod(p.c_str(), 0755);
}

// A fake docker-credential-NAME: records the server it was asked about, answers
// for `known` only, and says "not found" like the real helpers otherwise.
void fake_helper(const fs::path& dir, const std::string& name, const std::string& known,
                 const std::string& user, const std::string& secret) {
    write(dir / ("docker-credential-" + name),
          "#!/bin/sh\n"
          "[ \"$1\" = get ] || { echo \"unexpected $1\"; exit 3; }\n"
          "read server\n"
          "echo \"$server\" >> \"$(dirname \"$0\")/" +
              name +
              ".calls\"\n"
              "if [ \"$server\" = '" +
              known +
              "' ]; then\n"
              "  printf '{\"ServerURL\":\"%s\",\"Username\":\"" +
              user + "\",\"Secret\":\"" + secret +
              "\"}' \"$server\"\n"
              "else\n"
              "  echo 'credentials not found in native keychain'; exit 1\n"
              "fi\n",
          true);
}

}  // namespace

TEST(RegistryAuth, ParsesBearerChallenge) {
    auto c = parse_challenges(
        R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push",error="insufficient_scope")");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].scheme, "bearer");
    EXPECT_EQ(c[0].param("realm"), "https://auth.example/token");
    EXPECT_EQ(c[0].param("service"), "registry.example");
    EXPECT_EQ(c[0].param("scope"), "repository:a/b:pull,push");
    EXPECT_EQ(c[0].param("error"), "insufficient_scope");
    EXPECT_EQ(c[0].param("missing"), "");
}

TEST(RegistryAuth, ParsesBasicAndSeveralChallenges) {
    auto c = parse_challenges(R"(Basic realm="Registry Realm")");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].scheme, "basic");
    EXPECT_EQ(c[0].param("realm"), "Registry Realm");

    c = parse_challenges(
        R"(Basic realm="a, b", charset=UTF-8 , BEARER Realm="https://t/x?y=1", service=s, Negotiate)");
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0].param("realm"), "a, b");
    EXPECT_EQ(c[0].param("charset"), "UTF-8");
    EXPECT_EQ(c[1].scheme, "bearer");
    EXPECT_EQ(c[1].param("realm"), "https://t/x?y=1");
    EXPECT_EQ(c[1].param("service"), "s");
    EXPECT_EQ(c[2].scheme, "negotiate");
    EXPECT_TRUE(c[2].params.empty());

    c = parse_challenges(R"(Bearer realm="quoted \"inner\" \\ done")");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].param("realm"), R"(quoted "inner" \ done)");
    EXPECT_TRUE(parse_challenges("").empty());
    EXPECT_EQ(parse_challenges("Bearer").size(), 1u);
}

TEST(RegistryAuth, TokenResponses) {
    auto t = parse_token_response(R"({"token":"abc","expires_in":300,"refresh_token":"r"})");
    EXPECT_EQ(t.token, "abc");
    EXPECT_EQ(t.expires_in.count(), 300);
    EXPECT_EQ(t.refresh_token, "r");
    t = parse_token_response(R"({"access_token":"xyz"})");
    EXPECT_EQ(t.token, "xyz");
    EXPECT_EQ(t.expires_in.count(), 60);  // the spec's default
    EXPECT_THROW(parse_token_response("{}"), dmc::Error);
    EXPECT_THROW(parse_token_response("not json"), dmc::Error);
}

TEST(RegistryAuth, BasicAuthorization) {
    Credentials c;
    c.username = "u";
    c.password = "p:w";
    EXPECT_EQ(basic_authorization(c), "Basic dTpwOnc=");
}

TEST(RegistryAuth, NormalizesAuthKeys) {
    EXPECT_EQ(normalize_auth_key("https://index.docker.io/v1/"), "docker.io");
    EXPECT_EQ(normalize_auth_key("registry-1.docker.io"), "docker.io");
    EXPECT_EQ(normalize_auth_key("http://Reg.example:5000/v2/"), "reg.example:5000");
    EXPECT_EQ(normalize_auth_key("reg.example:5000"), "reg.example:5000");
}

TEST(RegistryAuth, DockerConfigAuths) {
    dmc::TempDir tmp;
    const auto reg = parse_registry("reg.example:5000/team");
    EXPECT_FALSE(docker_config_credentials(tmp.path(), reg, "").has_value());  // no config.json

    write(tmp.path() / "config.json",
          R"({"auths":{"other:1":{"auth":"eDp5"},"https://reg.example:5000":{"auth":")" +
              base64_encode("alice:pa:ss") + R"("}}})");
    auto c = docker_config_credentials(tmp.path(), reg, "");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->username, "alice");
    EXPECT_EQ(c->password, "pa:ss");
    EXPECT_EQ(c->source, (tmp.path() / "config.json").string());

    write(tmp.path() / "config.json",
          R"({"auths":{"reg.example:5000":{"identitytoken":"refresh"}}})");
    c = docker_config_credentials(tmp.path(), reg, "");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->identity_token, "refresh");
    EXPECT_EQ(c->username, "");

    write(tmp.path() / "config.json", R"({"auths":{"reg.example:5000":{"auth":"bm9jb2xvbg=="}}})");
    EXPECT_THROW(docker_config_credentials(tmp.path(), reg, ""), dmc::Error);
    write(tmp.path() / "config.json", "{not json");
    EXPECT_THROW(docker_config_credentials(tmp.path(), reg, ""), dmc::Error);
}

TEST(RegistryAuth, CredentialHelpers) {
    dmc::TempDir tmp;
    const fs::path bin = tmp.path() / "bin";
    fake_helper(bin, "store", "reg.example:5000", "bob", "from-store");
    fake_helper(bin, "special", "reg.example:5000", "<token>", "identity");
    const auto reg = parse_registry("reg.example:5000/team");
    const auto other = parse_registry("elsewhere.example");

    // credsStore: the helper is asked for the host; "not found" means anonymous.
    write(tmp.path() / "config.json", R"({"auths":{"reg.example:5000":{}},"credsStore":"store"})");
    auto c = docker_config_credentials(tmp.path(), reg, bin.string());
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->username, "bob");
    EXPECT_EQ(c->password, "from-store");
    EXPECT_EQ(c->source, "docker-credential-store");
    EXPECT_FALSE(docker_config_credentials(tmp.path(), other, bin.string()).has_value());
    EXPECT_EQ(dmc::read_file(bin / "store.calls"), "reg.example:5000\nelsewhere.example\n");

    // credHelpers for the host win over credsStore; "<token>" means an identity token.
    write(tmp.path() / "config.json",
          R"({"credsStore":"store","credHelpers":{"reg.example:5000":"special"}})");
    c = docker_config_credentials(tmp.path(), reg, bin.string());
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->identity_token, "identity");
    EXPECT_EQ(c->username, "");

    // A helper that is not installed, or that fails, is named.
    write(tmp.path() / "config.json", R"({"credsStore":"absent"})");
    try {
        docker_config_credentials(tmp.path(), reg, bin.string());
        FAIL() << "no error";
    } catch (const dmc::Error& e) {
        EXPECT_NE(std::string(e.what()).find("docker-credential-absent"), std::string::npos);
    }
    write(bin / "docker-credential-broken", "#!/bin/sh\necho 'keyring locked' >&2; exit 2\n", true);
    try {
        helper_credentials("broken", "reg.example:5000", bin.string());
        FAIL() << "no error";
    } catch (const dmc::Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "docker-credential-broken get failed (exit 2): keyring locked");
    }
    // Docker Hub is asked for by its historical name.
    fake_helper(bin, "hub", "https://index.docker.io/v1/", "h", "s");
    EXPECT_TRUE(helper_credentials("hub", "https://index.docker.io/v1/", bin.string()).has_value());
    write(tmp.path() / "config.json", R"({"credsStore":"hub"})");
    EXPECT_TRUE(docker_config_credentials(tmp.path(), parse_registry("docker.io/me"), bin.string())
                    .has_value());
}

TEST(RegistryAuth, ExplicitCredentialsComeFirst) {
    dmc::TempDir tmp;
    const auto reg = parse_registry("reg.example:5000");
    write(tmp.path() / "docker" / "config.json",
          R"({"auths":{"reg.example:5000":{"auth":")" + base64_encode("alice:x") + R"("}}})");
    CredentialOptions o;
    o.docker_config = tmp.path() / "docker";
    EXPECT_EQ(find_credentials(o, reg)->username, "alice");

    o.username = "carol";
    o.password = "pw";
    auto c = find_credentials(o, reg);
    EXPECT_EQ(c->username, "carol");
    EXPECT_EQ(c->password, "pw");
    EXPECT_EQ(c->source, "DMC_REGISTRY_PASSWORD");

    o.password.clear();
    o.password_file = tmp.path() / "pw";
    write(o.password_file, "from file\nsecond line\n");
    c = find_credentials(o, reg);
    EXPECT_EQ(c->password, "from file");
    EXPECT_EQ(c->source, o.password_file.string());

    o.password_file = tmp.path() / "missing";
    EXPECT_THROW(find_credentials(o, reg), dmc::Error);
    o.password_file.clear();
    EXPECT_THROW(find_credentials(o, reg), dmc::Error);  // a user without a password
    o.username.clear();
    o.password = "orphan";
    EXPECT_THROW(find_credentials(o, reg), dmc::Error);  // a password without a user

    // Nothing anywhere: anonymous.
    CredentialOptions none;
    none.docker_config = tmp.path() / "nowhere";
    EXPECT_FALSE(find_credentials(none, reg).has_value());
}

TEST(RegistryAuth, DockerConfigEnvironment) {
    const char* old = std::getenv("DOCKER_CONFIG");
    const std::string saved = old ? old : "";
    ::setenv("DOCKER_CONFIG", "/some/where", 1);
    EXPECT_EQ(default_docker_config_dir(), fs::path("/some/where"));
    ::unsetenv("DOCKER_CONFIG");
    const char* home = std::getenv("HOME");
    if (home) {
        EXPECT_EQ(default_docker_config_dir(), fs::path(home) / ".docker");
    }
    if (old) ::setenv("DOCKER_CONFIG", saved.c_str(), 1);
}
