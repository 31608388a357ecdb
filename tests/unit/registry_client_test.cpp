// The parts of the HTTP client that decide without a network: where the
// credentials may go after a redirect, what is retried, what errors say.
#include <gtest/gtest.h>

#include "registry/client.hpp"
#include "util/error.hpp"

using namespace dmc::registry;

TEST(RegistryClient, CredentialsStayWithTheirOrigin) {
    const std::string auth = "Bearer abc";
    const std::string registry = "https://r.example:5000/v2/a/blobs/sha256:00";
    EXPECT_EQ(authorization_for("https://r.example:5000/v2/a/blobs/uploads/u", registry, auth),
              auth);
    // A redirect to storage elsewhere, to another port, or down to plain HTTP: no credentials.
    EXPECT_EQ(authorization_for("https://s3.example/bucket/blob?sig=x", registry, auth), "");
    EXPECT_EQ(authorization_for("https://r.example:5001/v2/", registry, auth), "");
    EXPECT_EQ(authorization_for("http://r.example:5000/v2/", registry, auth), "");
    EXPECT_EQ(authorization_for("https://r.example.evil/v2/", registry, auth), "");
    // A redirect resolved against the registry's URL keeps its origin.
    EXPECT_EQ(authorization_for(resolve_url(registry, "/v2/a/blobs/x"), registry, auth), auth);
    EXPECT_EQ(authorization_for(resolve_url(registry, "//cdn.example/x"), registry, auth), "");
}

TEST(RegistryClient, TransientFailures) {
    auto status = [](long s) {
        Reply r;
        r.status = s;
        return r;
    };
    for (long s : {408L, 429L, 500L, 502L, 503L, 504L}) EXPECT_TRUE(transient(status(s))) << s;
    for (long s : {200L, 201L, 202L, 400L, 401L, 403L, 404L, 413L, 416L, 501L, 505L})
        EXPECT_FALSE(transient(status(s))) << s;
    Reply reset;
    reset.curl_code = 56;  // CURLE_RECV_ERROR: connection reset
    EXPECT_TRUE(transient(reset));
    Reply refused;
    refused.curl_code = 7;  // CURLE_COULDNT_CONNECT
    EXPECT_TRUE(transient(refused));
    Reply untrusted;
    untrusted.curl_code = 60;  // CURLE_PEER_FAILED_VERIFICATION: never retried
    EXPECT_FALSE(transient(untrusted));
}

TEST(RegistryClient, DescribesRegistryErrors) {
    Reply r;
    r.status = 403;
    r.body =
        R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})";
    EXPECT_EQ(describe(r), "HTTP 403 DENIED: requested access to the resource is denied");
    r.body = R"({"errors":[{"code":"A"},{"code":"B","message":"m"}]})";
    EXPECT_EQ(describe(r), "HTTP 403 A; B: m");
    r.body = "<html>not json</html>";
    EXPECT_EQ(describe(r), "HTTP 403");
    Reply c;
    c.curl_code = 7;
    c.error = "Failed to connect";
    EXPECT_EQ(describe(c), "Failed to connect");
}

TEST(RegistryClient, HeadersAreCaseInsensitive) {
    Reply r;
    r.headers["docker-content-digest"] = "sha256:00";
    EXPECT_EQ(r.header("Docker-Content-Digest"), "sha256:00");
    EXPECT_EQ(r.header("Location"), "");
}

TEST(RegistryClient, AnUnreachableRegistryIsOneClearError) {
    ClientOptions o;
    o.registry = parse_registry("127.0.0.1:1");  // nothing listens on port 1
    o.retry.retries = 1;
    o.retry.backoff_ms = 1;
    Client client(o);
    try {
        client.ping();
        FAIL() << "ping succeeded";
    } catch (const dmc::Error& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("cannot reach registry 127.0.0.1:1"), std::string::npos) << m;
        EXPECT_NE(m.find("gave up after 2 attempts"), std::string::npos) << m;
    }
}

TEST(RegistryClient, PlainHttpOnlyWhereAllowed) {
    ClientOptions o;
    o.registry = parse_registry("http://registry.example:5000");
    Client client(o);
    try {
        client.ping();
        FAIL() << "ping succeeded";
    } catch (const dmc::Error& e) {
        EXPECT_NE(std::string(e.what()).find("over plain HTTP; add it to insecure_registries"),
                  std::string::npos)
            << e.what();
    }
}
