#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "contents/assemble.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

namespace dmc::contents {
namespace {

namespace fs = std::filesystem;
using Type = image::LayerEntry::Type;

struct Fixture {
    TempDir dir;
    fs::path root = dir.path() / "root";
    rootfs::Manifest manifest;
    plugin::ConfigureResult configure;

    void file(const std::string& path, const std::string& content, const std::string& package,
              std::uint32_t mode = 0644) {
        fs::create_directories((root / path.substr(1)).parent_path());
        std::ofstream(root / path.substr(1)) << content;
        rootfs::FileRecord r;
        r.package = package;
        r.mode = mode;
        r.size = content.size();
        manifest.files[path] = r;
        manifest.packages[package].version = "1.0";
        manifest.packages[package].control = "Package: " + package + "\nVersion: 1.0\n";
    }
    Assembly run(std::vector<std::string> selection, bool tools = false, bool small = false,
                 std::vector<std::string> features = {}) {
        fs::create_directories(root);
        AssemblyInput in{root,
                         &manifest,
                         std::move(selection),
                         &configure,
                         Features::of(features, tools, small),
                         allow_setid};
        return assemble(in);
    }
    std::vector<std::string> allow_setid;
};

const image::LayerEntry* find(const Assembly& a, const std::string& path) {
    for (const auto& e : a.entries)
        if (e.path == path) return &e;
    return nullptr;
}

TEST(Assemble, SelectedFilesKeepTheirRecordedModes) {
    Fixture f;
    f.file("/usr/bin/tool", "#!", "tool", 0750);
    auto a = f.run({"/usr/bin/tool"});
    auto* e = find(a, "/usr/bin/tool");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->mode, 0750u);
    EXPECT_EQ(e->source, f.root / "usr/bin/tool");
    EXPECT_EQ(a.packages, std::set<std::string>{"tool"});
}

// setuid and setgid stay only on the files the template allows them by path.
TEST(Assemble, SetidBitsOnlyWhereAllowed) {
    Fixture f;
    f.file("/usr/bin/su", "#!", "tool", 04755);
    f.file("/usr/bin/wall", "#!", "tool", 02755);
    f.file("/usr/lib/helper", "#!", "tool", 06711);
    auto dropped = f.run({"/usr/bin/su", "/usr/bin/wall", "/usr/lib/helper"});
    EXPECT_EQ(find(dropped, "/usr/bin/su")->mode, 0755u);
    EXPECT_EQ(find(dropped, "/usr/bin/wall")->mode, 0755u);
    EXPECT_EQ(find(dropped, "/usr/lib/helper")->mode, 0711u);
    EXPECT_EQ(dropped.setid_dropped,
              (std::vector<std::string>{"/usr/bin/su", "/usr/bin/wall", "/usr/lib/helper"}));
    f.allow_setid = {"/usr/bin/*"};
    auto kept = f.run({"/usr/bin/su", "/usr/bin/wall", "/usr/lib/helper"});
    EXPECT_EQ(find(kept, "/usr/bin/su")->mode, 04755u);
    EXPECT_EQ(find(kept, "/usr/bin/wall")->mode, 02755u);
    EXPECT_EQ(find(kept, "/usr/lib/helper")->mode, 0711u);
    EXPECT_EQ(kept.setid_dropped, std::vector<std::string>{"/usr/lib/helper"});
}

TEST(Assemble, MinimalBase) {
    Fixture f;
    f.configure.users.push_back({"www-data", 33, 33, "/var/www", ""});
    f.configure.groups.push_back({"www-data", 33});
    auto a = f.run({});
    ASSERT_NE(find(a, "/etc/passwd"), nullptr);
    EXPECT_NE(find(a, "/etc/passwd")
                  ->content.find("www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin"),
              std::string::npos);
    EXPECT_NE(find(a, "/etc/passwd")->content.find("nobody:x:65534:65534"), std::string::npos);
    EXPECT_NE(find(a, "/etc/group")->content.find("www-data:x:33:"), std::string::npos);
    EXPECT_NE(find(a, "/etc/nsswitch.conf")->content.find("passwd: files"), std::string::npos);
    EXPECT_EQ(find(a, "/tmp")->mode, 01777u);
    EXPECT_EQ(find(a, "/var/tmp")->mode, 01777u);
    EXPECT_EQ(find(a, "/bin")->link_target, "usr/bin");
    EXPECT_EQ(find(a, "/usr/bin/sh"), nullptr);  // no shell without -T
}

TEST(Assemble, TemplatePathsCannotLeaveTheImage) {
    Fixture f;
    f.configure.files.push_back({"/../../../etc/evil", "x", 0644, 0, 0});
    f.configure.dirs.push_back({"../../outside", 0755, 0, 0});
    auto a = f.run({});
    EXPECT_NE(find(a, "/etc/evil"), nullptr);
    EXPECT_NE(find(a, "/outside"), nullptr);
    for (const auto& e : a.entries) EXPECT_EQ(e.path.find(".."), std::string::npos) << e.path;
}

TEST(Assemble, TemplateRemovesAndReplaces) {
    Fixture f;
    f.file("/etc/app/default.conf", "old", "app");
    f.file("/etc/app/keep.conf", "keep", "app");
    f.configure.removals.push_back("/etc/app/default.conf");
    f.configure.files.push_back({"/etc/app/keep.conf", "new", 0600, 0, 0});
    auto a = f.run({"/etc/app/default.conf", "/etc/app/keep.conf"});
    EXPECT_EQ(find(a, "/etc/app/default.conf"), nullptr);
    EXPECT_EQ(find(a, "/etc/app/keep.conf")->content, "new");
    EXPECT_EQ(find(a, "/etc/app/keep.conf")->mode, 0600u);
}

// Every path has an origin: a package's file, a template's, or dmc's; a package file
// a template wrote over is the template's, and leaves the package's md5sums.
TEST(Assemble, EachPathSaysWhoPutItThere) {
    Fixture f;
    f.file("/usr/bin/tool", "binary", "tool");
    f.file("/etc/tool/tool.conf", "packaged", "tool");
    f.configure.files.push_back({"/etc/tool/tool.conf", "mine", 0644, 0, 0});
    f.configure.files.push_back({"/srv/www/index.html", "hi", 0644, 33, 33});
    f.configure.written_by = {{"/etc/tool/tool.conf", "web"}};  // index.html: no record
    auto a = f.run({"/usr/bin/tool", "/etc/tool/tool.conf"});
    using Kind = Origin::Kind;
    EXPECT_EQ(a.origins.at("/usr/bin/tool").kind, Kind::package);
    EXPECT_EQ(a.origins.at("/usr/bin/tool").name, "tool");
    EXPECT_EQ(writer(a.origins.at("/etc/tool/tool.conf")), "template web");
    EXPECT_EQ(writer(a.origins.at("/srv/www/index.html")), "the image's configure hook");
    EXPECT_EQ(writer(a.origins.at("/etc/passwd")), "dmc");
    EXPECT_EQ(writer(a.origins.at("/srv")), "dmc");  // implied by /srv/www/index.html
    EXPECT_EQ(find(a, "/var/lib/dpkg/status.d/tool.md5sums")->content,
              "9d7183f16acce70658f686ae7f1a4d20  usr/bin/tool\n");
    for (const auto& e : a.entries) EXPECT_TRUE(a.origins.count(e.path)) << e.path;
}

// The manifest inside the image: one JSON line per path, sorted, each file with its
// true size and SHA256 and its origin; itself listed without a digest.
TEST(Assemble, FileManifestListsEveryPath) {
    Fixture f;
    f.file("/usr/bin/tool", "binary", "tool", 0755);
    fs::create_symlink("tool", f.root / "usr/bin/t");
    f.manifest.files["/usr/bin/t"] = {"tool", 'l', 0777, 0, 0, 0, "", "tool"};
    f.configure.files.push_back({"/srv/index.html", "hi", 0640, 33, 33});
    f.configure.written_by = {{"/srv/index.html", "web"}};
    auto a = f.run({"/usr/bin/tool", "/usr/bin/t"});
    const auto* manifest = find(a, file_manifest_path);
    ASSERT_NE(manifest, nullptr);
    std::vector<nlohmann::json> lines;
    std::istringstream text(manifest->content);
    for (std::string line; std::getline(text, line);) lines.push_back(nlohmann::json::parse(line));
    ASSERT_EQ(lines.size(), a.entries.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i]["path"], a.entries[i].path);
        if (i) {
            EXPECT_LT(lines[i - 1]["path"].get<std::string>(), lines[i]["path"]);
        }
    }
    auto line = [&](const std::string& path) {
        for (const auto& l : lines)
            if (l["path"] == path) return l;
        ADD_FAILURE() << path << " is not in the manifest";
        return nlohmann::json();
    };
    EXPECT_EQ(line("/usr/bin/tool"), (nlohmann::json{{"path", "/usr/bin/tool"},
                                                     {"type", "file"},
                                                     {"mode", "0755"},
                                                     {"size", 6},
                                                     {"sha256", dmc::sha256_hex("binary")},
                                                     {"package", "tool"}}));
    EXPECT_EQ(line("/usr/bin/t")["link"], "tool");
    EXPECT_EQ(line("/usr/bin/t")["type"], "symlink");
    EXPECT_EQ(line("/srv/index.html"), (nlohmann::json{{"path", "/srv/index.html"},
                                                       {"type", "file"},
                                                       {"mode", "0640"},
                                                       {"uid", 33},
                                                       {"gid", 33},
                                                       {"size", 2},
                                                       {"sha256", dmc::sha256_hex("hi")},
                                                       {"written_by", "template web"}}));
    EXPECT_EQ(line("/srv")["type"], "dir");
    EXPECT_EQ(line("/var/lib/dmc")["type"], "dir");  // the manifest's own parents too
    EXPECT_EQ(line("/etc/passwd")["written_by"], "dmc");
    EXPECT_FALSE(line(file_manifest_path).contains("sha256"));
    // Its own digest is in the assembly, for the SBOMs.
    EXPECT_EQ(a.contents.at(file_manifest_path).sha256, dmc::sha256_hex(manifest->content));
}

TEST(Assemble, ScannerMetadataPerPackage) {
    Fixture f;
    f.file("/usr/bin/tool", "binary", "tool");
    auto a = f.run({"/usr/bin/tool"});
    auto* status = find(a, "/var/lib/dpkg/status.d/tool");
    ASSERT_NE(status, nullptr);
    EXPECT_EQ(status->content, "Package: tool\nStatus: install ok installed\nVersion: 1.0\n");
    auto* md5 = find(a, "/var/lib/dpkg/status.d/tool.md5sums");
    ASSERT_NE(md5, nullptr);
    // md5sum of "binary", as `printf binary | md5sum` prints it.
    EXPECT_EQ(md5->content, "9d7183f16acce70658f686ae7f1a4d20  usr/bin/tool\n");
}

// Each package's md5sums holds the MD5 of each of its files in the image, read on
// every core; a content met again (its SHA-256 recorded at unpacking) is not read
// again, in this image or a later one, and still gets its own path.
TEST(Assemble, Md5sumsHoldEachFilesOwnDigest) {
    Fixture f;
    std::vector<std::string> selection;
    std::map<std::string, std::string> expected;  // package -> md5sums
    for (int i = 0; i < 40; ++i) {
        const std::string package = "pkg" + std::to_string(i % 3);
        const std::string path = "/usr/lib/f" + std::to_string(100 + i);
        const std::string content =
            i % 4 == 0 ? std::string("the same bytes")
                       : std::string(static_cast<size_t>(i) * 997, 'x') + std::to_string(i);
        f.file(path, content, package);
        f.manifest.files[path].sha256 = dmc::sha256_hex(content);
        selection.push_back(path);
        unsigned char md[16];
        unsigned int len = 0;
        EVP_Digest(content.data(), content.size(), md, &len, EVP_md5(), nullptr);
        expected[package] +=
            to_hex({reinterpret_cast<const char*>(md), len}) + "  " + path.substr(1) + "\n";
    }
    for (int run = 0; run < 2; ++run) {
        auto a = f.run(selection);
        for (const auto& [package, md5sums] : expected)
            EXPECT_EQ(find(a, "/var/lib/dpkg/status.d/" + package + ".md5sums")->content, md5sums)
                << package << ", assembly " << run;
    }
}

TEST(Assemble, SmallModeWritesADpkgDatabase) {
    Fixture f;
    f.file("/usr/bin/tool", "binary", "tool");
    f.file("/usr/share/doc/tool/copyright", "text", "tool");
    auto sel = whole_package_files(f.manifest);
    EXPECT_EQ(sel, std::vector<std::string>{"/usr/bin/tool"});
    auto a = f.run(sel, false, true);
    ASSERT_NE(find(a, "/var/lib/dpkg/status"), nullptr);
    EXPECT_NE(find(a, "/var/lib/dpkg/status")->content.find("Package: tool"), std::string::npos);
    EXPECT_EQ(find(a, "/var/lib/dpkg/info/tool.list")->content, "/usr/bin/tool\n");
    EXPECT_EQ(find(a, "/var/lib/dpkg/status.d/tool"), nullptr);
}

TEST(Assemble, ToolsAddBusyboxApplets) {
    Fixture f;
    f.file("/usr/bin/busybox", "static", "busybox-static", 0755);
    auto a = f.run({}, true);
    ASSERT_NE(find(a, "/usr/bin/busybox"), nullptr);
    EXPECT_EQ(find(a, "/usr/bin/sh")->link_target, "busybox");
    EXPECT_EQ(find(a, "/usr/bin/ls")->link_target, "busybox");
    Fixture none;
    EXPECT_THROW(none.run({}, true), Error);
}

TEST(Assemble, CaBundleAsUpdateCaCertificatesBuildsIt) {
    Fixture f;
    f.file("/usr/share/ca-certificates/mozilla/B.crt", "-----B-----", "ca-certificates");
    f.file("/usr/share/ca-certificates/mozilla/A.crt", "-----A-----\n", "ca-certificates");
    auto a = f.run({}, false, false, {"ca-certificates", "tzdata"});
    EXPECT_EQ(find(a, "/etc/ssl/certs/ca-certificates.crt")->content, "-----A-----\n-----B-----\n");
    EXPECT_EQ(find(a, "/etc/localtime")->link_target, "/usr/share/zoneinfo/Etc/UTC");
}

// The links are those update-ca-certificates and `openssl rehash` made on this machine
// from the same certificates (Debian's ca-certificates package).
TEST(Assemble, CaCertificateLinksAsTheRealToolsMakeThem) {
    const std::filesystem::path mozilla = "/usr/share/ca-certificates/mozilla";
    if (!std::filesystem::is_directory(mozilla) || !std::filesystem::is_directory("/etc/ssl/certs"))
        GTEST_SKIP() << "no ca-certificates on this machine";
    TempDir root;
    std::filesystem::create_directories(root.path() / "usr/share/ca-certificates");
    std::filesystem::copy(mozilla, root.path() / "usr/share/ca-certificates/mozilla");
    const auto ca = ca_certificates(root.path());
    std::size_t pems = 0, hashes = 0;
    for (const auto& [link, target] : ca.links) {
        const std::filesystem::path real = link;
        ASSERT_TRUE(std::filesystem::is_symlink(real)) << link << " is not on this machine";
        EXPECT_EQ(std::filesystem::read_symlink(real).string(), target) << link;
        (link.ends_with(".pem") ? pems : hashes)++;
    }
    const auto count = static_cast<std::size_t>(std::distance(
        std::filesystem::directory_iterator(mozilla), std::filesystem::directory_iterator()));
    EXPECT_EQ(pems, count);
    EXPECT_EQ(hashes, count);  // every certificate has a hash link
    EXPECT_EQ(ca.bundle.size() > 100000, true);
}

TEST(Assemble, PasswdAndGroupFiles) {
    EXPECT_EQ(passwd_file({}),
              "root:x:0:0:root:/root:/usr/sbin/nologin\n"
              "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    EXPECT_EQ(group_file({}, {{"app", 900, 900, "", ""}}),
              "root:x:0:\napp:x:900:\nnogroup:x:65534:\n");
}

TEST(Assemble, AUserDeclaredByTwoTemplatesIsWrittenOnce) {
    const plugin::UserSpec www{"www-data", 33, 33, "/var/www", "/usr/sbin/nologin"};
    const std::string passwd = passwd_file({www, www});
    EXPECT_EQ(passwd.find("www-data"), passwd.rfind("www-data:x")) << passwd;
    const std::string group = group_file({{"www-data", 33}, {"www-data", 33}}, {www, www});
    EXPECT_EQ(group, "root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n");
    plugin::UserSpec other = www;
    other.uid = 34;
    EXPECT_THROW(passwd_file({www, other}), Error);
    EXPECT_THROW(group_file({{"www-data", 33}, {"www-data", 34}}, {}), Error);
}

}  // namespace
}  // namespace dmc::contents
