// Unpacking .debs made here with libarchive (ar around tar members, as dpkg-deb
// lays them out): what lands in the root and the manifest, and what is refused.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "rootfs/store_ahead.hpp"
#include "rootfs/unpack.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc::rootfs {
namespace {

struct Entry {
    std::string path;
    char type = 'f';  // f, d, l (symlink), h (hard link)
    std::string content_or_target;
    unsigned mode = 0644;
    int uid = 0;
};

std::string tar_of(const std::vector<Entry>& entries) {
    std::string out;
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open(
        a, &out, nullptr,
        [](archive*, void* user, const void* buf, size_t n) -> la_ssize_t {
            static_cast<std::string*>(user)->append(static_cast<const char*>(buf), n);
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    for (const auto& e : entries) {
        archive_entry* ae = archive_entry_new();
        archive_entry_set_pathname(ae, e.path.c_str());
        archive_entry_set_uid(ae, e.uid);
        archive_entry_set_mtime(ae, 1700000000, 0);
        if (e.type == 'f') {
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_perm(ae, e.mode);
            archive_entry_set_size(ae, static_cast<la_int64_t>(e.content_or_target.size()));
        } else if (e.type == 'd') {
            archive_entry_set_filetype(ae, AE_IFDIR);
            archive_entry_set_perm(ae, 0755);
        } else if (e.type == 'l') {
            archive_entry_set_filetype(ae, AE_IFLNK);
            archive_entry_set_perm(ae, 0777);
            archive_entry_set_symlink(ae, e.content_or_target.c_str());
        } else {
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_hardlink(ae, e.content_or_target.c_str());
        }
        archive_write_header(a, ae);
        if (e.type == 'f')
            archive_write_data(a, e.content_or_target.data(), e.content_or_target.size());
        archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

fs::path deb_of(const fs::path& dir, const std::string& name, const std::vector<Entry>& data) {
    const std::vector<std::pair<std::string, std::string>> members = {
        {"debian-binary", "2.0\n"},
        {"control.tar", tar_of({{"./control", 'f',
                                 "Package: " + name + "\nVersion: 1.0-1\nArchitecture: amd64\n"}})},
        {"data.tar", tar_of(data)},
    };
    const fs::path file = dir / (name + ".deb");
    archive* a = archive_write_new();
    archive_write_set_format_ar_svr4(a);
    archive_write_open_filename(a, file.c_str());
    for (const auto& [member, bytes] : members) {
        archive_entry* ae = archive_entry_new();
        archive_entry_set_pathname(ae, member.c_str());
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_size(ae, static_cast<la_int64_t>(bytes.size()));
        archive_write_header(a, ae);
        archive_write_data(a, bytes.data(), bytes.size());
        archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    return file;
}

class UnpackTest : public ::testing::Test {
  protected:
    TempDir temp;
    fs::path root = temp.path() / "root";
    Manifest manifest;
    void SetUp() override { fs::create_directories(root); }
    void unpack(const std::string& name, const std::vector<Entry>& data) {
        unpack_deb(deb_of(temp.path(), name, data), root, name, manifest);
    }
};

TEST_F(UnpackTest, FilesLandInTheRootWithTheirRecords) {
    unpack("hello", {{"./usr/", 'd'},
                     {"./usr/bin/", 'd'},
                     {"./usr/bin/hello", 'f', "#!/bin/sh\n", 04755, 0},
                     {"./usr/bin/hi", 'l', "hello"},
                     {"./usr/bin/hello.again", 'h', "./usr/bin/hello"}});
    EXPECT_EQ(read_file(root / "usr/bin/hello"), "#!/bin/sh\n");
    const auto& hello = manifest.files.at("/usr/bin/hello");
    EXPECT_EQ(hello.package, "hello");
    EXPECT_EQ(hello.mode, 04755u);  // recorded, whatever the unpacking user may do
    EXPECT_EQ(hello.size, 10u);
    EXPECT_EQ(manifest.files.at("/usr/bin/hi").link, "hello");
    EXPECT_EQ(manifest.files.at("/usr/bin/hello.again").type, 'h');
    EXPECT_EQ(manifest.packages.at("hello").version, "1.0-1");
}

TEST_F(UnpackTest, AnotherPackagesDivertedFileGoesWhereTheDiversionSays) {
    const Diversions diversions = {{"/usr/bin/tool", {"/usr/bin/tool.real", "wrapper"}}};
    // The holder's own file stays; the other package's goes to the diverted name, in
    // whichever order they come, through the merged-/usr link as dpkg would.
    unpack_deb(deb_of(temp.path(), "wrapper",
                      {{"./usr/", 'd'}, {"./usr/bin/", 'd'}, {"./usr/bin/tool", 'f', "wrapper\n"}}),
               root, "wrapper", manifest, {}, diversions);
    fs::create_directory_symlink("usr/bin", root / "bin");
    unpack_deb(deb_of(temp.path(), "tool", {{"./bin/", 'd'}, {"./bin/tool", 'f', "tool\n"}}), root,
               "tool", manifest, {}, diversions);
    EXPECT_EQ(read_file(root / "usr/bin/tool"), "wrapper\n");
    EXPECT_EQ(read_file(root / "usr/bin/tool.real"), "tool\n");
    EXPECT_EQ(manifest.files.at("/usr/bin/tool").package, "wrapper");
    EXPECT_EQ(manifest.files.at("/usr/bin/tool.real").package, "tool");
    EXPECT_EQ(
        read_deb_control(temp.path() / "tool.deb", "tool").control.rfind("Package: tool\n", 0), 0u);
}

TEST_F(UnpackTest, EntriesThatLeaveTheRootAreRefused) {
    fs::create_directories(temp.path() / "outside");
    EXPECT_THROW(unpack("dotdot", {{"./../outside/evil", 'f', "x"}}), Error);
    EXPECT_THROW(unpack("absolute", {{"/etc/evil", 'f', "x"}}), Error);
    // A symlink leading out, then a file written through it.
    EXPECT_THROW(unpack("through", {{"./escape", 'l', "../outside"}, {"./escape/evil", 'f', "x"}}),
                 Error);
    EXPECT_THROW(unpack("hardlink", {{"./etc-passwd", 'h', "../outside/evil"}}), Error);
    EXPECT_FALSE(fs::exists(temp.path() / "outside" / "evil"));
    EXPECT_FALSE(fs::exists("/etc/evil"));
}

TEST_F(UnpackTest, ACorruptPackageNamesIt) {
    std::ofstream(temp.path() / "broken.deb") << "!<arch>\nnot really";
    try {
        unpack_deb(temp.path() / "broken.deb", root, "broken", manifest);
        FAIL() << "a corrupt .deb was unpacked";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("broken"), std::string::npos) << e.what();
    }
}

// Stored ahead: the packages of the images the run has not come to yet; one that
// cannot be stored is left for its image's own rootfs step to report.
TEST_F(UnpackTest, PackagesStoredAheadAreThoseOfImagesTheRunHasNotReached) {
    const fs::path store = temp.path() / "store";
    const auto a = deb_of(temp.path(), "a", {{"./a", 'f', "a\n"}});
    const auto b = deb_of(temp.path(), "b", {{"./b", 'f', "b\n"}});
    std::ofstream(temp.path() / "broken.deb") << "!<arch>\nnot really";
    StoreAhead ahead;
    EXPECT_FALSE(ahead.started());
    ahead.reached(1);
    ahead.start(store, {{1, "a", "aaaa", a},
                        {2, "b", "bbbb", b},
                        {3, "broken", "cccc", temp.path() / "broken.deb"}});
    EXPECT_TRUE(ahead.started());
    EXPECT_EQ(ahead.finish(false), 1u);
    EXPECT_FALSE(fs::exists(store / "aaaa"));
    EXPECT_FALSE(fs::exists(store / "cccc"));
    // The run's rootfs step finds b stored: its .deb is not read again.
    fs::remove(b);
    EXPECT_EQ(store_deb(b, store, "bbbb", "b"), store / "bbbb");
    Manifest m;
    place_deb(store / "bbbb", root, "b", m);
    EXPECT_EQ(read_file(root / "b"), "b\n");
    // Nothing to store: no thread.
    StoreAhead idle;
    idle.start(store, {});
    EXPECT_FALSE(idle.started());
    EXPECT_EQ(idle.finish(), 0u);
}

TEST_F(UnpackTest, StoredPackagesArePlacedIntoTreesThatShareTheirBytes) {
    const fs::path store = temp.path() / "store";
    const auto lib = deb_of(temp.path(), "libz",
                            {{"./usr/", 'd'},
                             {"./usr/lib/", 'd'},
                             {"./usr/lib/libz.so.1.3", 'f', "ELF z\n", 0755},
                             {"./usr/lib/libz.so.1", 'l', "libz.so.1.3"},
                             {"./usr/lib/libz.copy", 'h', "./usr/lib/libz.so.1.3"}});
    const auto app =
        deb_of(temp.path(), "app", {{"./lib/", 'd'}, {"./lib/app.conf", 'f', "conf\n"}});
    const fs::path stored_lib = store_deb(lib, store, "aaaa", "libz");
    const fs::path stored_app = store_deb(app, store, "bbbb", "app");
    // The deb is not read again once stored: gone, it is not missed.
    fs::remove(lib);
    EXPECT_EQ(store_deb(lib, store, "aaaa", "libz"), stored_lib);
    EXPECT_EQ(stored_control(stored_lib).version, "1.0-1");

    // Two trees, each with /lib a link into /usr/lib as in a merged-/usr rootfs.
    std::vector<Manifest> manifests(2);
    for (int t = 0; t < 2; ++t) {
        const fs::path tree = temp.path() / ("tree" + std::to_string(t));
        fs::create_directories(tree / "usr");
        fs::create_directory_symlink("usr/lib", tree / "lib");
        place_deb(stored_lib, tree, "libz", manifests[t]);
        place_deb(stored_app, tree, "app", manifests[t]);
    }
    const fs::path a = temp.path() / "tree0/usr/lib/libz.so.1.3";
    const fs::path b = temp.path() / "tree1/usr/lib/libz.so.1.3";
    EXPECT_TRUE(fs::equivalent(a, b));  // one file on disk for both trees
    EXPECT_EQ(read_file(a), "ELF z\n");
    struct stat st;
    ASSERT_EQ(::stat(a.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0755u);
    // Through the /lib link, as unpacking would have put it.
    EXPECT_EQ(read_file(temp.path() / "tree1/usr/lib/app.conf"), "conf\n");
    EXPECT_EQ(manifests[1].files.at("/usr/lib/app.conf").package, "app");
    EXPECT_EQ(manifests[0].files.at("/usr/lib/libz.so.1").link, "libz.so.1.3");
    EXPECT_EQ(manifests[0].files.at("/usr/lib/libz.copy").type, 'h');
    EXPECT_EQ(manifests[0].files.at("/usr/lib/libz.copy").sha256,
              manifests[0].files.at("/usr/lib/libz.so.1.3").sha256);
    EXPECT_EQ(manifests[0].files.at("/usr/lib/libz.so.1.3").size, 6u);

    // A tree that replaces a stored file never changes the store's copy.
    place_deb(stored_app, temp.path() / "tree0", "app", manifests[0]);
    write_file_atomic(temp.path() / "tree0/usr/lib/libz.so.1.3", "changed");
    EXPECT_EQ(read_file(b), "ELF z\n");

    // The same as unpacking straight into a tree.
    fs::create_directories(root / "usr");
    fs::create_directory_symlink("usr/lib", root / "lib");
    unpack("app", {{"./lib/", 'd'}, {"./lib/app.conf", 'f', "conf\n"}});
    EXPECT_EQ(manifest.files.at("/usr/lib/app.conf").sha256,
              manifests[1].files.at("/usr/lib/app.conf").sha256);

    // Pruning keeps what a tree still links, and what was placed lately.
    EXPECT_EQ(prune_store(store, std::chrono::hours(1)), 0u);
    fs::remove_all(temp.path() / "tree0");
    fs::remove_all(temp.path() / "tree1");
    EXPECT_EQ(prune_store(store, std::chrono::hours(1)), 0u);
    EXPECT_EQ(prune_store(store, std::chrono::seconds(-1)), 2u);
    EXPECT_FALSE(fs::exists(stored_lib));
}

TEST_F(UnpackTest, SlimTreesLetTheStoreShedFilesAndTheDebGivesThemBack) {
    const fs::path store = temp.path() / "store";
    const std::vector<Entry> lib_entries = {{"./usr/", 'd'},
                                            {"./usr/lib/", 'd'},
                                            {"./usr/lib/libz.so.1.3", 'f', "ELF z\n", 0755},
                                            {"./usr/lib/libz.so.1", 'l', "libz.so.1.3"},
                                            {"./usr/share/", 'd'},
                                            {"./usr/share/doc", 'f', "docs\n"},
                                            {"./usr/share/man", 'f', "man\n"}};
    const auto lib = deb_of(temp.path(), "libz", lib_entries);
    const fs::path stored = store_deb(lib, store, "aaaa", "libz");
    Manifest m0, m1;
    const fs::path t0 = temp.path() / "t0", t1 = temp.path() / "t1";
    place_deb(stored, t0, "libz", m0);
    place_deb(stored, t1, "libz", m1);
    write_file_atomic(t0 / "etc/passwd", "root:x:0:0::/:/bin/sh\n");  // the tree's own

    // t0's image holds the library (named through its link) and the tree's own file.
    const auto slimmed = slim_tree(t0, {t0 / "usr/lib/libz.so.1", t0 / "etc/passwd"});
    EXPECT_EQ(slimmed.files, 2u);
    EXPECT_EQ(slimmed.bytes, 9u);
    EXPECT_TRUE(fs::exists(t0 / "usr/lib/libz.so.1.3"));
    EXPECT_TRUE(fs::is_symlink(t0 / "usr/lib/libz.so.1"));
    EXPECT_TRUE(fs::exists(t0 / "etc/passwd"));
    EXPECT_FALSE(fs::exists(t0 / "usr/share/doc"));
    EXPECT_FALSE(fs::exists(t0 / "usr/share/man"));

    // t1 still links all: nothing to shed.
    EXPECT_EQ(shed_store(store).files, 0u);
    // t1 slimmed to nothing: the docs go from the store; the library t0 links stays.
    slim_tree(t1, {});
    EXPECT_FALSE(fs::exists(t1 / "usr/lib/libz.so.1.3"));
    {
        // Not while another process stores or places packages.
        const auto busy = store_in_use(store);
        EXPECT_EQ(shed_store(store).files, 0u);
    }
    const auto shed = shed_store(store);
    EXPECT_EQ(shed.files, 2u);
    EXPECT_EQ(shed.bytes, 9u);
    // A package with shed files is kept by prune while a tree links the rest of it.
    EXPECT_EQ(prune_store(store, std::chrono::seconds(-1)), 0u);

    // Stored again, the shed files come back from the .deb, and a tree placed from the
    // store is whole.
    EXPECT_EQ(store_deb(lib, store, "aaaa", "libz"), stored);
    Manifest m2;
    const fs::path t2 = temp.path() / "t2";
    place_deb(stored, t2, "libz", m2);
    EXPECT_EQ(read_file(t2 / "usr/share/doc"), "docs\n");
    EXPECT_EQ(read_file(t2 / "usr/share/man"), "man\n");
    EXPECT_TRUE(fs::equivalent(t2 / "usr/lib/libz.so.1.3", t0 / "usr/lib/libz.so.1.3"));
    EXPECT_EQ(m2.files.at("/usr/share/doc").sha256, m1.files.at("/usr/share/doc").sha256);
    // Whole again: the .deb is not needed any more.
    fs::remove(lib);
    EXPECT_EQ(store_deb(lib, store, "aaaa", "libz"), stored);

    // A .deb that no longer holds what was stored of it is refused, naming the file.
    slim_tree(t2, {});
    fs::remove_all(t0);
    fs::remove_all(t1);
    EXPECT_EQ(shed_store(store).files, 3u);
    auto other = lib_entries;
    other[5].content_or_target = "other docs\n";
    const auto changed = deb_of(temp.path(), "libz", other);
    try {
        store_deb(changed, store, "aaaa", "libz");
        FAIL() << "a .deb unlike the stored list refilled the store";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("./usr/share/doc"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(stored / "data/5"));
}

TEST_F(UnpackTest, AHostilePackageLeavesNothingInTheStore) {
    const fs::path store = temp.path() / "store";
    EXPECT_THROW(store_deb(deb_of(temp.path(), "dotdot", {{"./../outside/evil", 'f', "x"}}), store,
                           "cccc", "dotdot"),
                 Error);
    EXPECT_FALSE(fs::exists(store / "cccc"));
    EXPECT_TRUE(fs::is_empty(store));
}

}  // namespace
}  // namespace dmc::rootfs
