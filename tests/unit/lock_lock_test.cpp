#include "lock/lock.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "util/error.hpp"

namespace dmc::lock {
namespace {

Entry sample(const std::string& image, const std::string& arch = "amd64") {
    Entry e;
    e.dist = "trixie";
    e.arch = arch;
    e.image = image;
    e.templates = {{image, "1.0"}};
    e.options = {{"tools", "false"}, {"mode", "micro"}};
    e.request = {"zlib1g", image};
    e.releases = {
        {"http://m/debian", "trixie", std::string(64, 'b'), "Sat, 08 Nov 2025 09:44:27 UTC"}};
    e.packages = {{"zlib1g", "1:1.3.dfsg-3+b1", "amd64", std::string(64, 'c'), 90000,
                   "http://m/debian", "trixie", "main", "pool/main/z/zlib/zlib1g.deb"},
                  {image, "1.26.3-3", "amd64", std::string(64, 'd'), 12345, "http://m/debian",
                   "trixie-security", "main", "pool/updates/n/" + image + ".deb"}};
    return e;
}

TEST(Lock, RoundTripsAndRendersTheSameBytes) {
    Lock lock;
    lock.put(sample("nginx"));
    lock.put(sample("php", "arm64"));
    const std::string text = lock.render();
    const Lock again = Lock::parse(text, "dmc.lock");
    EXPECT_EQ(again.render(), text);
    const Entry* e = again.find("trixie", "amd64", "nginx");
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(e->packages.size(), 2u);
    EXPECT_EQ(e->packages[0].name, "nginx");  // sorted by name
    EXPECT_EQ(e->packages[0].suite, "trixie-security");
    EXPECT_EQ(e->packages[1].version, "1:1.3.dfsg-3+b1");
    EXPECT_EQ(e->packages[1].size, 90000u);
    EXPECT_EQ(e->request, (std::vector<std::string>{"nginx", "zlib1g"}));
    EXPECT_EQ(e->releases.at(0).date, "Sat, 08 Nov 2025 09:44:27 UTC");
    EXPECT_EQ(again.find("trixie", "amd64", "php"), nullptr);
    // Sorted and without a clock: the same entries put in another order, the same text.
    Lock other;
    other.put(sample("php", "arm64"));
    other.put(sample("nginx"));
    EXPECT_EQ(other.render(), text);
}

// dmc reads the form it writes without a YAML parser; a lock in any other form (here
// an extra blank and a comment, as a hand edit leaves) goes to the YAML reader. Both
// give the same lock, line numbers included.
TEST(Lock, TheWrittenFormAndAnyOtherFormReadTheSame) {
    Lock lock;
    Entry odd = sample("odd");
    odd.options["quote\"back\\slash"] = "tab\tbell\x07: colon, comma [x] {y} #z \xc3\xbc";
    odd.packages[0].version = "2:1.0~rc1+dfsg-1";
    odd.source = Source{"odd", "1", "http://m/odd.dsc", std::string(64, 'e')};
    lock.put(odd);
    lock.put(sample("nginx"));
    const std::string text = lock.render();
    std::string edited = text;
    edited.replace(edited.find("lock_format: 1"), 14, "lock_format:  1  # hand edit");
    ASSERT_TRUE(Lock::parse_written(text));
    EXPECT_FALSE(Lock::parse_written(edited));
    const Lock fast = *Lock::parse_written(text);
    const Lock slow = Lock::parse(edited, "dmc.lock");
    EXPECT_EQ(fast.render(), text);
    EXPECT_EQ(slow.render(), text);
    for (const auto& [key, e] : slow.entries()) {
        const Entry& f = fast.entries().at(key);
        EXPECT_EQ(f.line, e.line) << key;
        EXPECT_EQ(f.options, e.options) << key;
        EXPECT_EQ(f.source.has_value(), e.source.has_value()) << key;
    }
    EXPECT_EQ(fast.find("trixie", "amd64", "odd")->options.at("quote\"back\\slash"),
              "tab\tbell\x07: colon, comma [x] {y} #z \xc3\xbc");
    // A value the checks refuse is refused in either form.
    std::string bad = text;
    bad.replace(bad.find(std::string(64, 'c')), 64, std::string(64, 'g'));
    EXPECT_THROW(Lock::parse(bad, "dmc.lock"), Error);
}

TEST(Lock, RecordsTheSourceOfABuildFromSource) {
    Lock lock;
    Entry e = sample("nginx-src");
    e.source = Source{"nginx", "1.26.3-3", "http://m/debian/pool/main/n/nginx/nginx_1.26.3-3.dsc",
                      std::string(64, 'e')};
    lock.put(e);
    lock.put(sample("nginx"));
    const std::string text = lock.render();
    EXPECT_NE(text.find("    source: {name: \"nginx\", version: \"1.26.3-3\", url: "
                        "\"http://m/debian/pool/main/n/nginx/nginx_1.26.3-3.dsc\", sha256: \"" +
                        std::string(64, 'e') + "\"}\n"),
              std::string::npos)
        << text;
    const Lock again = Lock::parse(text, "dmc.lock");
    EXPECT_EQ(again.render(), text);
    EXPECT_EQ(again.find("trixie", "amd64", "nginx-src")->source, e.source);
    EXPECT_FALSE(again.find("trixie", "amd64", "nginx")->source.has_value());
    // A source without its digest is not one this dmc wrote.
    std::string broken = text;
    broken.replace(broken.find(std::string(64, 'e')), 64, "short");
    EXPECT_THROW(Lock::parse(broken, "dmc.lock"), Error);
}

TEST(Lock, ValuesThatLookLikeOtherTypesStayStrings) {
    Lock lock;
    Entry e = sample("x");
    e.options = {{"yes", "no"}, {"n", "1.10"}, {"quote", "a\"b\\c"}};
    lock.put(e);
    const Lock again = Lock::parse(lock.render(), "dmc.lock");
    EXPECT_EQ(again.find("trixie", "amd64", "x")->options, e.options);
}

void expect_refused(const std::string& text, const std::string& where, const std::string& what) {
    try {
        Lock::parse(text, "dmc.lock");
        FAIL() << "accepted: " << text;
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(where), std::string::npos) << message;
        EXPECT_NE(message.find(what), std::string::npos) << message;
        EXPECT_NE(message.find("dmc -a update"), std::string::npos) << message;
    }
}

TEST(Lock, ABrokenLockNamesTheLine) {
    Lock lock;
    lock.put(sample("nginx"));
    std::string text = lock.render();
    // A hand-broken digest on the line of the first package.
    const auto at = text.find(std::string(64, 'd'));
    const int line =
        1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
    std::string broken = text;
    broken.replace(at, 64, "not-a-digest");
    expect_refused(broken, "dmc.lock:" + std::to_string(line), "sha256");
    expect_refused("lock_format: 1\nimages:\n  a/b/c:\n    templates: {}\n", "dmc.lock:4",
                   "no 'options'");
    expect_refused("lock_format: 9\nimages: {}\n", "dmc.lock:1", "lock_format 9");
    expect_refused("lock_format: 1\nimages: {x: 1}\n", "dmc.lock:2", "not dist/arch/template");
    expect_refused("lock_format: [1\n", "dmc.lock:", "not YAML");
    std::string escaping = text;
    escaping.replace(escaping.find("pool/updates"), 12, "../../etc");
    expect_refused(escaping, "dmc.lock:", "not a path in the archive");
}

// Two dmc processes on other caches write one lock: neither loses the other's entries.
TEST(Lock, SavesKeepWhatAnotherProcessWrote) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("dmc-lock-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    const auto file = dir / "dmc.lock";
    Lock first = Lock::load(file), second = Lock::load(file);
    first.put(sample("nginx"));
    second.put(sample("php"));
    EXPECT_TRUE(first.save(file));
    EXPECT_TRUE(second.save(file));
    Lock both = Lock::load(file);
    EXPECT_NE(both.find("trixie", "amd64", "nginx"), nullptr);
    EXPECT_NE(both.find("trixie", "amd64", "php"), nullptr);
    EXPECT_NE(second.find("trixie", "amd64", "nginx"), nullptr);  // read back
    // An erase is kept too, and nothing changed writes nothing.
    first.erase("trixie/amd64/php");
    EXPECT_TRUE(first.save(file));
    EXPECT_EQ(Lock::load(file).find("trixie", "amd64", "php"), nullptr);
    EXPECT_FALSE(first.save(file));
    std::filesystem::remove_all(dir);
}

TEST(Lock, EmptyAndMissing) {
    EXPECT_TRUE(Lock::parse("", "dmc.lock").entries().empty());
    EXPECT_TRUE(Lock::load("/nonexistent/dmc.lock").entries().empty());
    EXPECT_TRUE(Lock::parse(Lock{}.render(), "dmc.lock").entries().empty());
}

}  // namespace
}  // namespace dmc::lock
