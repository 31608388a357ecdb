#include <gtest/gtest.h>

#include "rootfs/diversions.hpp"

namespace dmc::rootfs {
namespace {

ScriptDiversions read(const std::map<std::string, std::string>& preinsts) {
    std::map<std::string, PackageRecord> records;
    std::vector<std::string> order;
    for (const auto& [name, script] : preinsts) {
        records[name].scripts["preinst"] = script;
        order.push_back(name);
    }
    return read_diversions(records, order, script_facts("amd64", "x86_64-linux-gnu"));
}

TEST(ReadDiversions, TheHolderIsThePackageUnlessTheCommandSaysOtherwise) {
    const auto d = read({
        {"a", "dpkg-divert --package a --add --rename --divert /usr/bin/tool.real /usr/bin/tool\n"},
        {"b", "if [ \"$1\" = install ]; then\n  dpkg-divert --add --rename /etc/b.conf\nfi\n"},
        {"c",
         "dpkg-divert --local --divert=/usr/lib/x.orig --add /usr/lib/x\n"
         "dpkg-divert --remove /usr/lib/old\n"},
    });
    EXPECT_TRUE(d.unfollowed.empty());
    ASSERT_EQ(d.by_path.size(), 3u);
    EXPECT_EQ(d.by_path.at("/usr/bin/tool").divert_to, "/usr/bin/tool.real");
    EXPECT_EQ(d.by_path.at("/usr/bin/tool").holder, "a");
    EXPECT_EQ(d.by_path.at("/etc/b.conf").divert_to, "/etc/b.conf.distrib");  // dpkg's default
    EXPECT_EQ(d.by_path.at("/etc/b.conf").holder, "b");  // DPKG_MAINTSCRIPT_PACKAGE
    EXPECT_EQ(d.by_path.at("/usr/lib/x").holder, "");    // --local: every package's file moves
}

TEST(ReadDiversions, WhatCannotBeFollowedIsReported) {
    const auto d = read({{"a",
                          "dpkg-divert --add --divert \"$TARGET\" /usr/bin/a\n"
                          "dpkg-divert --admindir /x --add /usr/bin/b\n"
                          "dpkg-divert --add relative/path\n"
                          "dpkg-divert --add --divert / /usr/bin/c\n"
                          "dpkg-divert --add --divert /usr/bin/../bin/d /usr/bin/d\n"}});
    ASSERT_EQ(d.unfollowed.size(), 5u);
    EXPECT_NE(d.unfollowed[3].command.find("of or to the root"), std::string::npos);
    EXPECT_NE(d.unfollowed[4].command.find("to itself"), std::string::npos);
    EXPECT_EQ(d.unfollowed[0].command, "dpkg-divert --add --divert ? /usr/bin/a");
    EXPECT_NE(d.unfollowed[1].command.find("another dpkg database"), std::string::npos);
    EXPECT_NE(d.unfollowed[2].command.find("no absolute file"), std::string::npos);
    EXPECT_TRUE(d.by_path.empty());
}

}  // namespace
}  // namespace dmc::rootfs
