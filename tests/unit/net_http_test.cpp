#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "net/http.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;

namespace dmc::net {
namespace {

// A server on 127.0.0.1 that accepts connections (the kernel completes them) and
// never says a word.
class SilentServer {
  public:
    SilentServer() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(fd_, 16);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    ~SilentServer() { ::close(fd_); }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

  private:
    int fd_ = -1;
    int port_ = 0;
};

HttpOptions quick() {
    HttpOptions o;
    o.retry = {.retries = 4, .backoff_ms = 10, .retry_time_s = 2};
    o.transfer.stall_timeout_s = 1;
    return o;
}

TEST(NetHttp, FileUrlsAreReadAndMissingOnesAreNone) {
    TempDir dir;
    std::ofstream(dir.path() / "Release") << "Suite: trixie\n";
    Http http(quick());
    EXPECT_EQ(http.get("file://" + (dir.path() / "Release").string()), "Suite: trixie\n");
    EXPECT_EQ(http.get("file://" + (dir.path() / "missing").string()), std::nullopt);
}

// A server's rate comes from a body large enough to time; none before, none from a
// small one, and none for another server.
TEST(NetHttp, TheRateOfAServerIsTakenFromALargeBody) {
    TempDir dir;
    std::ofstream(dir.path() / "small") << std::string(Http::kRateSample - 1, 's');
    std::ofstream(dir.path() / "large") << std::string(4 * Http::kRateSample, 'l');
    Http http(quick());
    const std::string small = "file://" + (dir.path() / "small").string();
    EXPECT_EQ(http.rate(small), std::nullopt);
    ASSERT_TRUE(http.get(small));
    EXPECT_EQ(http.rate(small), std::nullopt);
    ASSERT_TRUE(http.get("file://" + (dir.path() / "large").string()));
    ASSERT_TRUE(http.rate(small));  // the same server (file://)
    EXPECT_GT(*http.rate(small), 0.0);
    EXPECT_EQ(http.rate("http://127.0.0.1:9/dists/trixie/InRelease"), std::nullopt);
}

// A body is handed on in pieces as it comes; what the sink throws ends the transfer.
TEST(NetHttp, ABodyIsHandedOnAsItComes) {
    TempDir dir;
    std::string text;
    for (int i = 0; text.size() < (1u << 20); ++i) text += std::to_string(i) + "\n";
    std::ofstream(dir.path() / "Packages") << text;
    const std::string url = "file://" + (dir.path() / "Packages").string();
    Http http(quick());
    std::string got;
    std::size_t pieces = 0;
    EXPECT_TRUE(http.get_to(
        url, text.size(),
        [&](std::string_view piece) {
            got += piece;
            ++pieces;
        },
        [] { FAIL() << "no attempt but the first"; }));
    EXPECT_EQ(got, text);
    EXPECT_GT(pieces, 2u);
    EXPECT_FALSE(http.get_to(
        url + ".missing", 100, [](std::string_view) {}, [] {}));
    pieces = 0;
    EXPECT_THROW(http.get_to(
                     url, text.size(),
                     [&](std::string_view) {
                         if (++pieces == 2) throw Error("disk full");
                     },
                     [] {}),
                 Error);
    EXPECT_EQ(pieces, 2u);
}

TEST(NetHttp, AServerThatNeverAnswersFailsWithinTheRetryTime) {
    SilentServer server;
    Http http(quick());
    const auto start = std::chrono::steady_clock::now();
    try {
        http.get(server.url("/dists/trixie/InRelease"));
        FAIL() << "a silent server gave an answer";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("cannot fetch " + server.url("/dists/trixie/InRelease") +
                            ": nothing received for 1 s after 2 attempts"),
                  std::string::npos)
            << what;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST(NetHttp, SchemesDmcDoesNotSpeakFailAtOnce) {
    Http http(quick());
    EXPECT_THROW(http.get("ftp://127.0.0.1:1/debian"), Error);
    EXPECT_THROW(http.get("gopher://127.0.0.1:1/"), Error);
}

TEST(NetHttp, AWrongDigestKeepsNothing) {
    TempDir dir;
    std::ofstream(dir.path() / "pkg.deb") << "not what the index says";
    Http http(quick());
    Download d{"file://" + (dir.path() / "pkg.deb").string(), dir.path() / "cache" / "x.deb",
               std::string(64, '0'), std::nullopt, "pkg"};
    try {
        http.fetch({d});
        FAIL() << "a wrong digest was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("pkg: SHA256 mismatch"), std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(fs::exists(d.dest));
    EXPECT_FALSE(fs::exists(fs::path(d.dest.string() + ".part")));
    d.sha256 = sha256_hex(std::string("not what the index says"));
    http.fetch({d});
    EXPECT_EQ(read_file(d.dest), "not what the index says");
}

}  // namespace
}  // namespace dmc::net
