#include <gtest/gtest.h>

#include "registry/reference.hpp"
#include "util/error.hpp"

using namespace dmc::registry;

TEST(RegistryReference, ParsesHostPortAndNamespace) {
    auto r = parse_registry("Registry.Example:5000/team/images");
    EXPECT_EQ(r.host, "registry.example:5000");
    EXPECT_EQ(r.endpoint, "registry.example:5000");
    EXPECT_EQ(r.ns, "team/images");
    EXPECT_EQ(r.scheme, "");

    r = parse_registry("127.0.0.1:5000");
    EXPECT_EQ(r.host, "127.0.0.1:5000");
    EXPECT_EQ(r.ns, "");

    r = parse_registry("https://ghcr.io/owner/");
    EXPECT_EQ(r.scheme, "https");
    EXPECT_EQ(r.host, "ghcr.io");
    EXPECT_EQ(r.ns, "owner");

    r = parse_registry("http://[::1]:5000/x");
    EXPECT_EQ(r.scheme, "http");
    EXPECT_EQ(r.host, "[::1]:5000");
    EXPECT_EQ(r.ns, "x");

    r = parse_registry("docker.io/someone");
    EXPECT_EQ(r.host, "docker.io");
    EXPECT_EQ(r.endpoint, "registry-1.docker.io");
}

TEST(RegistryReference, RefusesMalformedRegistries) {
    for (const char* bad : {"", "/ns", "host:", "host:99999", "host:0", "host:x", "bad host",
                            "ftp://host", "host/UPPER", "host/a//b", "host/-a", "[::1", "host_/x"})
        EXPECT_THROW(parse_registry(bad), dmc::UsageError) << bad;
}

TEST(RegistryReference, RepositoryNames) {
    EXPECT_TRUE(valid_repository("nginx"));
    EXPECT_TRUE(valid_repository("team/nginx"));
    EXPECT_TRUE(valid_repository("a.b/c_d/e__f/g---h"));
    EXPECT_FALSE(valid_repository("Nginx"));
    EXPECT_FALSE(valid_repository("a/"));
    EXPECT_FALSE(valid_repository("a..b"));
    EXPECT_FALSE(valid_repository("a___b"));
    EXPECT_FALSE(valid_repository("_a"));
    EXPECT_FALSE(valid_repository(std::string(256, 'a')));

    EXPECT_EQ(repository(parse_registry("r:1/team"), "nginx"), "team/nginx");
    EXPECT_EQ(repository(parse_registry("r:1"), "nginx"), "nginx");
    EXPECT_THROW(repository(parse_registry("r:1"), "Bad"), dmc::UsageError);
}

TEST(RegistryReference, Tags) {
    EXPECT_TRUE(valid_tag("latest"));
    EXPECT_TRUE(valid_tag("1.26.3-3_deb13u1"));
    EXPECT_TRUE(valid_tag("_x"));
    EXPECT_FALSE(valid_tag(""));
    EXPECT_FALSE(valid_tag(".x"));
    EXPECT_FALSE(valid_tag("-x"));
    EXPECT_FALSE(valid_tag("a+b"));
    EXPECT_FALSE(valid_tag(std::string(129, 'a')));

    EXPECT_EQ(tag_of_version("1.26.3-3+deb13u1"), "1.26.3-3_deb13u1");
    EXPECT_EQ(tag_of_version("2:8.4.11-1~bpo12+1"), "2_8.4.11-1_bpo12_1");
    EXPECT_EQ(tag_of_version(""), "");
    EXPECT_TRUE(valid_tag(tag_of_version("1:2.3+4~5")));
}

TEST(RegistryReference, LoopbackAndInsecure) {
    EXPECT_TRUE(is_loopback("localhost"));
    EXPECT_TRUE(is_loopback("localhost:5000"));
    EXPECT_TRUE(is_loopback("127.0.0.1:5000"));
    EXPECT_TRUE(is_loopback("127.1.2.3"));
    EXPECT_TRUE(is_loopback("[::1]:5000"));
    EXPECT_FALSE(is_loopback("127.0.0.1.example.com"));
    EXPECT_FALSE(is_loopback("128.0.0.1"));
    EXPECT_FALSE(is_loopback("127.0.0.256"));
    EXPECT_FALSE(is_loopback("registry.example"));
    EXPECT_FALSE(is_loopback("10.0.0.1:5000"));

    EXPECT_TRUE(plain_http_allowed(parse_registry("127.0.0.1:5000/x"), {}));
    EXPECT_FALSE(plain_http_allowed(parse_registry("reg.lan:5000/x"), {}));
    EXPECT_TRUE(plain_http_allowed(parse_registry("reg.lan:5000/x"), {"reg.lan:5000"}));
    EXPECT_TRUE(plain_http_allowed(parse_registry("reg.lan:5000/x"), {"reg.lan"}));
    EXPECT_TRUE(plain_http_allowed(parse_registry("REG.lan:5000"), {"http://reg.LAN:5000/"}));
    EXPECT_FALSE(plain_http_allowed(parse_registry("reg.lan:5000/x"), {"reg.lan:5001", "other"}));
}

TEST(RegistryReference, ResolvesLocations) {
    const std::string base = "https://r.example:5000/v2/a/blobs/uploads/?x=1";
    EXPECT_EQ(resolve_url(base, "/v2/a/blobs/uploads/u?_state=s"),
              "https://r.example:5000/v2/a/blobs/uploads/u?_state=s");
    EXPECT_EQ(resolve_url(base, "https://storage.example/up?sig=1"),
              "https://storage.example/up?sig=1");
    EXPECT_EQ(resolve_url(base, "//cdn.example/x"), "https://cdn.example/x");
    EXPECT_EQ(resolve_url(base, "u2"), "https://r.example:5000/v2/a/blobs/uploads/u2");
    EXPECT_EQ(resolve_url("http://h", "/v2/"), "http://h/v2/");
}

TEST(RegistryReference, Origins) {
    EXPECT_EQ(origin("https://R.example/v2/"), "https://r.example:443");
    EXPECT_EQ(origin("http://r.example:80/x"), "http://r.example:80");
    EXPECT_EQ(origin("https://user:pw@r.example:5000?q"), "https://r.example:5000");
    EXPECT_EQ(origin("no-scheme"), "");
    EXPECT_TRUE(same_origin("https://r.example/v2/a", "https://r.example:443/token"));
    EXPECT_FALSE(same_origin("https://r.example/v2/", "http://r.example/v2/"));
    EXPECT_FALSE(same_origin("https://r.example/", "https://r.example:5000/"));
    EXPECT_FALSE(same_origin("https://r.example/", "https://s3.example/"));
    EXPECT_FALSE(same_origin("http://127.0.0.1:5000/", "http://localhost:5000/"));
    EXPECT_FALSE(same_origin("relative", "relative"));
}

TEST(RegistryReference, UrlEncoding) {
    EXPECT_EQ(url_encode("sha256:ab"), "sha256%3Aab");
    EXPECT_EQ(url_encode("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
    EXPECT_EQ(url_encode("A-z_0.~"), "A-z_0.~");
}
