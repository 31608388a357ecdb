#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "apt/index.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace dmc::apt {
namespace {

const char* const kPackages =
    "Package: nginx\n"
    "Source: nginx (1.26.3-3)\n"
    "Version: 1.26.3-3+b1\n"
    "Installed-Size: 1234\n"
    "Maintainer: Someone <x@example.org>\n"
    "Architecture: amd64\n"
    "Depends: libc6 (>= 2.34), nginx-common (= 1.26.3-3)\n"
    "Pre-Depends: init-system-helpers (>= 1.54~)\n"
    "Recommends: ssl-cert\n"
    "Suggests: nginx-doc\n"
    "Provides: httpd, httpd-cgi (= 1.0)\n"
    "Conflicts: nginx-light\n"
    "Breaks: nginx-core (<< 1.22)\n"
    "Replaces: nginx-core\n"
    "Description: small, powerful, scalable web/proxy server\n"
    " Nginx (\"engine X\") is a high-performance web and reverse proxy server.\n"
    "Multi-Arch: foreign\n"
    "Section: httpd\n"
    "Priority: optional\n"
    "Filename: pool/main/n/nginx/nginx_1.26.3-3+b1_amd64.deb\n"
    "Size: 604532\n"
    "MD5sum: 00000000000000000000000000000000\n"
    "SHA256: 1111111111111111111111111111111111111111111111111111111111111111\n"
    "\n"
    "Package: nginx\n"
    "Version: 1.22.1-9\n"
    "Architecture: amd64\n"
    "Filename: pool/main/n/nginx/nginx_1.22.1-9_amd64.deb\n"
    "Size: 10\n"
    "\n"
    "package: base-files\n"  // field names are case-insensitive
    "version: 13.8\n"
    "architecture: amd64\n"
    "essential: yes\n"
    "protected: yes\n"
    "priority: required\n"
    "multi-arch: foreign\n"
    "filename: pool/main/b/base-files/base-files_13.8_amd64.deb\n"
    "\n"
    "Package: apache2\n"
    "Version: 2.4.62-1\n"
    "Architecture: amd64\n"
    "Provides: httpd\n"
    "Filename: pool/main/a/apache2/apache2_2.4.62-1_amd64.deb\n";

TEST(AptIndex, KeepsTheFieldsTheResolverNeeds) {
    PackageIndex index;
    {
        std::string text = kPackages;  // freed before the index is used
        index.add(text, "http://mirror.example/debian/", "main", "amd64");
    }
    ASSERT_EQ(index.size(), 4u);
    auto nginx = index.versions("nginx");
    ASSERT_EQ(nginx.size(), 2u);
    const Package& p = *nginx[0];
    EXPECT_EQ(p.name(), "nginx");
    EXPECT_EQ(p.version(), "1.26.3-3+b1");
    EXPECT_EQ(p.architecture(), "amd64");
    EXPECT_EQ(p.source(), "nginx");
    EXPECT_EQ(p.source_version(), "1.26.3-3");
    EXPECT_EQ(p.depends(), "libc6 (>= 2.34), nginx-common (= 1.26.3-3)");
    EXPECT_EQ(p.pre_depends(), "init-system-helpers (>= 1.54~)");
    EXPECT_EQ(p.recommends(), "ssl-cert");
    EXPECT_EQ(p.suggests(), "nginx-doc");
    EXPECT_EQ(p.provides(), "httpd, httpd-cgi (= 1.0)");
    EXPECT_EQ(p.conflicts(), "nginx-light");
    EXPECT_EQ(p.breaks(), "nginx-core (<< 1.22)");
    EXPECT_EQ(p.replaces(), "nginx-core");
    EXPECT_EQ(p.section(), "httpd");
    EXPECT_EQ(p.priority(), Priority::Optional);
    EXPECT_EQ(p.multi_arch(), MultiArch::Foreign);
    EXPECT_EQ(p.filename(), "pool/main/n/nginx/nginx_1.26.3-3+b1_amd64.deb");
    EXPECT_EQ(p.size(), 604532u);
    EXPECT_EQ(p.installed_size_kib(), 1234u);
    EXPECT_EQ(p.sha256(), std::string(64, '1'));
    EXPECT_FALSE(p.essential());
    EXPECT_EQ(p.url(),
              "http://mirror.example/debian/pool/main/n/nginx/nginx_1.26.3-3+b1_amd64.deb");
    EXPECT_EQ(p.origin().component, "main");
    EXPECT_EQ(p.display(), "nginx 1.26.3-3+b1 amd64");

    // Defaults when a field is absent.
    const Package& old = *nginx[1];
    EXPECT_EQ(old.version(), "1.22.1-9");
    EXPECT_EQ(old.source(), "nginx");
    EXPECT_EQ(old.source_version(), "1.22.1-9");
    EXPECT_EQ(old.priority(), Priority::Unknown);
    EXPECT_EQ(old.multi_arch(), MultiArch::No);
    EXPECT_TRUE(old.depends().empty());

    const Package& base = *index.versions("base-files").front();
    EXPECT_TRUE(base.essential());
    EXPECT_TRUE(base.is_protected());
    EXPECT_EQ(base.priority(), Priority::Required);
}

TEST(AptIndex, VersionsAreHighestFirst) {
    PackageIndex index;
    index.add(
        "Package: a\nVersion: 1.0\n\nPackage: a\nVersion: 1:0.1\n\n"
        "Package: a\nVersion: 2.0~rc1\n\nPackage: a\nVersion: 1.0\nArchitecture: all\n",
        "http://m", "main", "amd64");
    auto versions = index.versions("a");
    ASSERT_EQ(versions.size(), 4u);
    EXPECT_EQ(versions[0]->version(), "1:0.1");
    EXPECT_EQ(versions[1]->version(), "2.0~rc1");
    EXPECT_EQ(versions[2]->version(), "1.0");
    EXPECT_EQ(versions[2]->architecture(), "amd64");  // the index's arch when absent
    EXPECT_EQ(versions[3]->architecture(), "all");    // equal versions: order added
    EXPECT_TRUE(index.versions("b").empty());
}

TEST(AptIndex, ListsProviders) {
    PackageIndex index;
    index.add(kPackages, "http://m", "main", "amd64");
    auto httpd = index.providers("httpd");
    ASSERT_EQ(httpd.size(), 2u);
    EXPECT_EQ(httpd[0].package->name(), "nginx");
    EXPECT_TRUE(httpd[0].version.empty());
    EXPECT_EQ(httpd[1].package->name(), "apache2");
    auto cgi = index.providers("httpd-cgi");
    ASSERT_EQ(cgi.size(), 1u);
    EXPECT_EQ(cgi[0].version, "1.0");
    EXPECT_TRUE(index.providers("nothing").empty());
    EXPECT_TRUE(index.contains("apache2"));
    EXPECT_FALSE(index.contains("httpd"));
}

TEST(AptIndex, SeveralIndexesKeepTheirOrigins) {
    PackageIndex index;
    index.add("Package: a\nVersion: 1\nArchitecture: amd64\nFilename: pool/a.deb\n", "http://one",
              "main", "amd64");
    index.add("Package: a\nVersion: 1\nArchitecture: arm64\nFilename: pool/a.deb\n", "http://two",
              "contrib", "arm64");
    auto a = index.versions("a");
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0]->url(), "http://one/pool/a.deb");
    EXPECT_EQ(a[1]->url(), "http://two/pool/a.deb");
    EXPECT_EQ(a[1]->origin().arch, "arm64");
    EXPECT_EQ(a[1]->ordinal(), 1u);
    EXPECT_EQ(index.names().size(), 1u);
}

TEST(AptIndex, RejectsStanzasWithoutNameOrVersion) {
    PackageIndex index;
    EXPECT_THROW(index.add("Version: 1\n", "http://m", "main", "amd64"), Error);
    EXPECT_THROW(index.add("Package: a\n", "http://m", "main", "amd64"), Error);
    EXPECT_THROW(index.add("Package: a\nVersion: 1\nProvides: (\n", "http://m", "main", "amd64"),
                 Error);
}

TEST(AptIndex, ASavedIndexReadsBackTheSame) {
    TempDir temp;
    const auto file = temp.path() / "parsed";
    {
        PackageIndex index;
        index.add(kPackages, "http://mirror.example/debian/", "main", "amd64", "trixie");
        index.add("Package: b\nVersion: 1\nArchitecture: arm64\nProvides: httpd (= 2)\n",
                  "http://user:secret@two", "contrib", "arm64");
        index.save(file, [](std::string_view url) {
            return std::string(url == "http://user:secret@two" ? "http://two" : url);
        });
    }
    EXPECT_EQ(read_file(file).find("secret"), std::string::npos);
    auto loaded = PackageIndex::load_saved(file, [](std::string_view url) {
        return std::string(url == "http://two" ? "http://user:secret@two" : url);
    });
    ASSERT_TRUE(loaded);
    const PackageIndex& index = *loaded;
    ASSERT_EQ(index.size(), 5u);
    auto nginx = index.versions("nginx");
    ASSERT_EQ(nginx.size(), 2u);
    EXPECT_EQ(nginx[0]->version(), "1.26.3-3+b1");  // the order kept, highest first
    EXPECT_EQ(nginx[0]->depends(), "libc6 (>= 2.34), nginx-common (= 1.26.3-3)");
    EXPECT_EQ(nginx[0]->multi_arch(), MultiArch::Foreign);
    EXPECT_EQ(nginx[0]->priority(), Priority::Optional);
    EXPECT_EQ(nginx[0]->size(), 604532u);
    EXPECT_EQ(nginx[0]->installed_size_kib(), 1234u);
    EXPECT_EQ(nginx[0]->url(),
              "http://mirror.example/debian/pool/main/n/nginx/nginx_1.26.3-3+b1_amd64.deb");
    EXPECT_EQ(nginx[0]->origin().suite, "trixie");
    EXPECT_EQ(nginx[1]->version(), "1.22.1-9");
    const Package& base = *index.versions("base-files").front();
    EXPECT_TRUE(base.essential());
    EXPECT_TRUE(base.is_protected());
    auto httpd = index.providers("httpd");
    ASSERT_EQ(httpd.size(), 3u);
    EXPECT_EQ(httpd[0].package->name(), "nginx");
    EXPECT_EQ(httpd[2].package->name(), "b");
    EXPECT_EQ(httpd[2].version, "2");
    EXPECT_EQ(httpd[2].package->origin().arch, "arm64");
    EXPECT_EQ(httpd[2].package->origin().base_url, "http://user:secret@two");
    EXPECT_EQ(httpd[2].package->ordinal(), 4u);
    ASSERT_EQ(index.providers("httpd-cgi").size(), 1u);
    EXPECT_EQ(index.providers("httpd-cgi")[0].version, "1.0");
    EXPECT_EQ(index.names().size(), 4u);
    EXPECT_TRUE(index.contains("b"));
    EXPECT_FALSE(index.contains("httpd"));
    EXPECT_TRUE(index.versions("httpd").empty());
    EXPECT_TRUE(index.providers("nginx").empty());
    // A package read once is the same object for every lookup that returns it.
    EXPECT_EQ(index.versions("b").front(), httpd[2].package);

    // Every package in the order added, as the parsed index gives them.
    std::vector<std::string> visited;
    index.for_each_package([&](const Package& p) { visited.push_back(p.display()); });
    EXPECT_EQ(visited, (std::vector<std::string>{"nginx 1.26.3-3+b1 amd64", "nginx 1.22.1-9 amd64",
                                                 "base-files 13.8 amd64", "apache2 2.4.62-1 amd64",
                                                 "b 1 arm64"}));

    // Saved again from the index read back: the same bytes.
    index.save(temp.path() / "again", [](std::string_view url) {
        return std::string(url == "http://user:secret@two" ? "http://two" : url);
    });
    EXPECT_EQ(read_file(temp.path() / "again"), read_file(file));
}

// A Packages text of many stanzas, with what the parse must carry across pieces: long
// continued fields, comments, blank lines of spaces, Provides.
std::string many_stanzas() {
    std::string text = std::string(kPackages) + "\n\n";
    for (int i = 0; text.size() < (300u << 10); ++i) {
        text += "Package: p" + std::to_string(i % 700) + "\nVersion: " + std::to_string(i) +
                "\nArchitecture: amd64\nDepends: libc6 (>= 2." + std::to_string(i % 41) + ")\n";
        if (i % 5 == 0) text += "Provides: virtual" + std::to_string(i % 13) + "\n";
        text += "Description: package " + std::to_string(i) + "\n .\n long text " +
                std::string(static_cast<std::size_t>(i % 97), 'x') + "\n";
        if (i % 11 == 0) text += "# a comment line\n";
        text += "Filename: pool/p" + std::to_string(i) + ".deb\nSize: " + std::to_string(i) + "\n";
        text += i % 17 == 0 ? "  \n" : "\n";
    }
    return text;
}

TEST(AptIndex, AFileAddedInPiecesIsTheFileAddedWhole) {
    TempDir temp;
    const std::string text = many_stanzas();
    const std::string second = "Package: b\nVersion: 1\nArchitecture: arm64\n";
    auto same_url = [](std::string_view url) { return std::string(url); };
    PackageIndex whole;
    whole.add(text, "http://m/debian", "main", "amd64", "trixie");
    whole.add(second, "http://m/debian", "main", "arm64", "trixie");
    whole.save(temp.path() / "whole", same_url);
    for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{999},
                              std::size_t{1} << 16, text.size()}) {
        SCOPED_TRACE("pieces of " + std::to_string(piece) + " bytes");
        PackageIndex fed;
        IndexFeed feed(fed, "http://m/debian", "main", "amd64", "trixie");
        for (std::size_t at = 0; at < text.size(); at += piece)
            feed.add(std::string_view(text).substr(at, piece));
        feed.finish();
        IndexFeed next(fed, "http://m/debian", "main", "arm64", "trixie");
        next.add(second);
        next.finish();
        ASSERT_EQ(fed.size(), whole.size());
        fed.save(temp.path() / "fed", same_url);
        EXPECT_EQ(read_file(temp.path() / "fed"), read_file(temp.path() / "whole"));
        EXPECT_EQ(fed.versions("p3").front()->version(), whole.versions("p3").front()->version());
    }
    // A broken stanza is found where it is in the file, whatever the pieces.
    const std::string broken = text + "\nPackage: broken\nArchitecture: amd64\n";
    auto error_of = [&](std::size_t piece) {
        PackageIndex index;
        try {
            IndexFeed feed(index, "http://m/debian", "main", "amd64", "trixie");
            for (std::size_t at = 0; at < broken.size(); at += piece)
                feed.add(std::string_view(broken).substr(at, piece));
            feed.finish();
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    const std::string expected = "stanza at byte " + std::to_string(text.size() + 1) + " has no";
    EXPECT_NE(error_of(broken.size()).find(expected), std::string::npos) << error_of(broken.size());
    EXPECT_EQ(error_of(4096), error_of(broken.size()));
    EXPECT_EQ(error_of(3), error_of(broken.size()));
}

// Thousands of names that share their first bytes, or are the first bytes of others,
// in a file written in several pieces: every name is found again after loading, and
// the loaded index saved again gives the same bytes.
TEST(AptIndex, ASavedIndexOfManyNamesFindsEachOne) {
    TempDir temp;
    std::vector<std::string> names = {"lib", "lib0", "libxxxxx", "libxxxxxx", "libxxxxx-a"};
    for (int i = 4000; i-- > 0;)
        names.push_back((i % 3 == 0   ? "python3-"
                         : i % 3 == 1 ? "libreoffice-l10n-"
                                      : "r-") +
                        std::to_string(i * 7919 % 10007));
    std::string text;
    const std::string depends(300, 'd');
    for (const auto& name : names)
        text += "Package: " + name + "\nVersion: 1\nArchitecture: amd64\nDepends: " + depends +
                "\nProvides: virtual-" + name + "\n\n";
    const auto first = temp.path() / "first";
    const auto again = temp.path() / "again";
    auto same = [](std::string_view url) { return std::string(url); };
    {
        PackageIndex index;
        index.add(text, "http://m", "main", "amd64");
        index.save(first, same);
    }
    ASSERT_GT(std::filesystem::file_size(first), 1u << 20);
    auto loaded = PackageIndex::load_saved(first, same);
    ASSERT_TRUE(loaded);
    for (const auto& name : names) {
        ASSERT_EQ(loaded->versions(name).size(), 1u) << name;
        EXPECT_EQ(loaded->versions(name).front()->name(), name);
        ASSERT_EQ(loaded->providers("virtual-" + name).size(), 1u) << name;
    }
    EXPECT_TRUE(loaded->versions("li").empty());
    EXPECT_TRUE(loaded->versions("libxxxxx-").empty());
    loaded->save(again, same);
    EXPECT_EQ(read_file(again), read_file(first));
}

TEST(AptIndex, ADamagedSavedIndexIsParsedAgain) {
    TempDir temp;
    const auto file = temp.path() / "parsed";
    const auto same = [](std::string_view url) { return std::string(url); };
    EXPECT_FALSE(PackageIndex::load_saved(file, same));  // missing
    PackageIndex index;
    index.add(kPackages, "http://m", "main", "amd64");
    index.save(file, same);
    const std::string whole = read_file(file);
    // Cut anywhere, or changed in its header, it is refused, never read out of bounds.
    for (std::size_t n = 0; n < whole.size(); n += 7) {
        write_file_atomic(file, whole.substr(0, n));
        EXPECT_FALSE(PackageIndex::load_saved(file, same)) << n;
    }
    std::string other = whole;
    other[16] = static_cast<char>(other[16] + 1);  // the format number, after the magic
    write_file_atomic(file, other);
    EXPECT_FALSE(PackageIndex::load_saved(file, same));

    // Any byte changed: refused when read, or a clear error naming the file when the
    // damaged record is first used; never a read out of bounds (the sanitizer run).
    for (std::size_t at = 0; at + 8 < whole.size(); ++at) {
        other = whole;
        other[at] = static_cast<char>(~other[at]);
        write_file_atomic(file, other);
        auto loaded = PackageIndex::load_saved(file, same);
        if (!loaded) continue;
        try {
            for (std::string_view name : loaded->names())
                for (const Package* p : loaded->versions(name)) (void)p->display();
            (void)loaded->providers("httpd");
            loaded->for_each_package([](const Package& p) { (void)p.display(); });
        } catch (const Error& e) {
            EXPECT_NE(
                std::string(e.what()).find(file.string() + ": the saved parsed index is damaged"),
                std::string::npos)
                << e.what();
        }
    }
}

}  // namespace
}  // namespace dmc::apt
