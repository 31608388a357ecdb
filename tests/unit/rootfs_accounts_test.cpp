#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "rootfs/accounts.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace dmc::rootfs {
namespace {

class AccountsTest : public ::testing::Test {
  protected:
    void text(const std::string& path, const std::string& content) {
        fs::create_directories((root() / path.substr(1)).parent_path());
        std::ofstream(root() / path.substr(1)) << content;
    }
    // A package with a preinst or postinst and the control fields given.
    void package(const std::string& name, const std::string& script, const std::string& body,
                 const std::string& fields = "") {
        auto& r = manifest_.packages[name];
        r.control = "Package: " + name + "\nVersion: 1\n" + fields;
        if (!script.empty()) r.scripts[script] = body;
    }
    ScriptAccounts read() {
        return read_accounts(root(), manifest_, configure_order(manifest_),
                             script_facts("amd64", "x86_64-linux-gnu"));
    }
    static std::string ids(const ScriptAccounts& a, const std::string& user) {
        const SystemUser* u = a.accounts.user(user);
        return u ? std::to_string(u->uid) + ":" + std::to_string(u->gid) : "none";
    }
    const fs::path& root() const { return temp_.path(); }
    TempDir temp_{"dmc-accounts-test"};
    Manifest manifest_;
};

TEST_F(AccountsTest, AdduserCountsUpFromAHundredInTheOrderDpkgRunsTheScripts) {
    text("/usr/share/base-passwd/passwd.master",
         "root:*:0:0:root:/root:/bin/sh\nwww-data:*:33:33:www-data:/var/www:/usr/sbin/nologin\n"
         "nobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    text("/usr/share/base-passwd/group.master", "root:*:0:\nwww-data:*:33:\nnogroup:*:65534:\n");
    // mariadb-server's preinst, as in trixie: the group first, then the user in it.
    package("mariadb-server", "preinst",
            "if ! getent group mysql >/dev/null; then\n  addgroup --system mysql >/dev/null\nfi\n"
            "adduser \\\n  --system \\\n  --disabled-login \\\n  --ingroup mysql \\\n"
            "  --no-create-home \\\n  --home /nonexistent \\\n  --gecos \"MariaDB Server\" \\\n"
            "  --shell /bin/false \\\n  mysql >/dev/null 2>&1\n",
            "Depends: redis-tools\n");
    // redis-tools' postinst; it is configured before mariadb-server, which depends on
    // it, but preinsts all run first.
    package("redis-tools", "postinst",
            "USER=redis\nif [ \"$1\" = configure ]; then\n  adduser --system --home /var/lib/redis "
            "--quiet --group ${USER} || true\nfi\n");
    package("nginx-common", "postinst", "adduser --system --group www-data\n");
    const auto a = read();
    EXPECT_EQ(ids(a, "mysql"), "100:100");
    EXPECT_EQ(ids(a, "redis"), "101:101");
    EXPECT_EQ(a.accounts.group("redis")->gid, 101u);
    EXPECT_EQ(ids(a, "www-data"), "33:33");  // base-passwd's: left as it is
    EXPECT_EQ(a.accounts.user("mysql")->shell, "/bin/false");
    EXPECT_EQ(a.accounts.user("mysql")->gecos, "MariaDB Server");
    EXPECT_EQ(a.accounts.user("redis")->home, "/var/lib/redis");
    EXPECT_TRUE(a.unfollowed.empty());
    EXPECT_EQ(a.created.front(), "group mysql (100) by mariadb-server's preinst");
}

TEST_F(AccountsTest, ASystemUserWithoutAGroupIsInNogroup) {
    package("svc", "postinst", "adduser --system --no-create-home svc\n");
    EXPECT_EQ(ids(read(), "svc"), "100:65534");
}

TEST_F(AccountsTest, UseraddGroupaddAndSysusersCountDownFrom999) {
    package("a", "postinst",
            "groupadd -r agroup\nuseradd -r -M -d /var/lib/a -s /usr/sbin/nologin auser\n");
    package("b", "postinst", "systemd-sysusers ${DPKG_ROOT:+--root=\"$DPKG_ROOT\"} b.conf\n",
            "Depends: a\n");
    text("/usr/lib/sysusers.d/b.conf",
         "# comment\ng bgroup -\nu buser - \"B daemon\" /var/lib/b\nu fixed 333:bgroup\nm buser "
         "bgroup\n");
    package("c", "postinst", "groupadd -g 42 shadow\n");
    const auto a = read();
    EXPECT_TRUE(a.unfollowed.empty()) << a.unfollowed.front().command;
    EXPECT_EQ(a.accounts.group("agroup")->gid, 999u);
    // useradd: the uid from the top; its own group would take the same number, but
    // agroup has it: the next free gid going down.
    EXPECT_EQ(ids(a, "auser"), "999:998");
    EXPECT_EQ(a.accounts.group("bgroup")->gid, 997u);
    EXPECT_EQ(ids(a, "buser"), "996:996");  // sysusers: one number free for both
    EXPECT_EQ(a.accounts.user("buser")->home, "/var/lib/b");
    EXPECT_EQ(a.accounts.user("buser")->gecos, "B daemon");
    EXPECT_EQ(ids(a, "fixed"), "333:997");
    EXPECT_EQ(a.accounts.group("shadow")->gid, 42u);
    EXPECT_EQ(a.accounts.passwd_text().find("auser:x:999:998::/var/lib/a:/usr/sbin/nologin\n") !=
                  std::string::npos,
              true);
}

TEST_F(AccountsTest, WhatCannotBeFollowedIsReportedNotGuessed) {
    package("x", "postinst",
            "NAME=$(cat /etc/name)\nadduser --system \"$NAME\"\nadduser --system --conf /x y\n"
            "useradd plainuser\n");
    const auto a = read();
    ASSERT_EQ(a.unfollowed.size(), 3u);
    EXPECT_EQ(a.unfollowed[0].command, "adduser --system ?");
    EXPECT_NE(a.unfollowed[1].command.find("another adduser.conf"), std::string::npos);
    EXPECT_NE(a.unfollowed[2].command.find("not a system user"), std::string::npos);
    EXPECT_EQ(a.accounts.user("y"), nullptr);
}

TEST_F(AccountsTest, DependenciesAreConfiguredFirst) {
    package("zz", "", "", "Depends: aa\n");
    package("aa", "", "", "Pre-Depends: mm\n");
    package("mm", "", "");
    package("cyc1", "", "", "Depends: cyc2\n");
    package("cyc2", "", "", "Depends: cyc1\n");
    EXPECT_EQ(configure_order(manifest_),
              (std::vector<std::string>{"mm", "aa", "zz", "cyc1", "cyc2"}));
}

TEST_F(AccountsTest, TheFilesAreWrittenInsideTheRoot) {
    package("svc", "postinst", "adduser --system --group svc\n");
    fs::create_directories(root() / "usr/etc");
    fs::create_symlink("/usr/etc", root() / "etc");  // absolute: resolved in the root
    const auto a = read();
    write_accounts(root(), manifest_, a.accounts);
    std::ifstream passwd(root() / "usr/etc/passwd");
    std::string all((std::istreambuf_iterator<char>(passwd)), std::istreambuf_iterator<char>());
    EXPECT_NE(all.find("svc:x:100:100::/nonexistent:/usr/sbin/nologin\n"), std::string::npos);
    EXPECT_EQ(manifest_.files.at("/usr/etc/group").size, a.accounts.group_text().size());
}

}  // namespace
}  // namespace dmc::rootfs
