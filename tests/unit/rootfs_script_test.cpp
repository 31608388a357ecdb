#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rootfs/script.hpp"

namespace dmc::rootfs {
namespace {

std::vector<std::string> texts(const std::string& script) {
    std::vector<std::string> out;
    for (const auto& c : read_script(script, script_facts("arm64", "aarch64-linux-gnu")))
        out.push_back(c.text());
    return out;
}

TEST(ReadScript, JoinsContinuedLinesAndRemovesQuotes) {
    const auto commands = read_script(
        "#!/bin/sh\nset -e\n\n# a comment\nupdate-alternatives --install /usr/lib/x/libblas.so.3 "
        "\\\n"
        "        'libblas.so.3-x' \"/usr/lib/x/blas/libblas.so.3\" 10\nexit 0\n",
        script_facts("amd64", "x86_64-linux-gnu"));
    ASSERT_EQ(commands.size(), 3u);
    EXPECT_EQ(commands[0].text(), "set -e");
    EXPECT_EQ(commands[1].text(),
              "update-alternatives --install /usr/lib/x/libblas.so.3 libblas.so.3-x "
              "/usr/lib/x/blas/libblas.so.3 10");
    EXPECT_EQ(commands[1].line, 5);
    EXPECT_TRUE(commands[1].known());
    EXPECT_EQ(commands[2].text(), "exit 0");
}

TEST(ReadScript, ExpandsWhatTheScriptAndTheArchFix) {
    EXPECT_EQ(texts("MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)\nlib=/usr/lib/$MA\n"
                    "prio=${2:-40}\nupdate-alternatives --install \"${lib}/libx.so\" x "
                    "$lib/x/libx.so $prio\n"),
              std::vector<std::string>{
                  "update-alternatives --install /usr/lib/aarch64-linux-gnu/libx.so x "
                  "/usr/lib/aarch64-linux-gnu/x/libx.so 40"});
    EXPECT_EQ(texts("A=`dpkg --print-architecture`; echo \"$A\" $1"),
              std::vector<std::string>{"echo arm64 configure"});
}

TEST(ReadScript, MarksWhatItCannotFollow) {
    // A loop variable, a command substitution and the environment are run-time values.
    const auto commands = read_script(
        "for f in a b; do\n  update-alternatives --install /usr/bin/$f $f /opt/$f 5\ndone\n"
        "X=$(ls /opt | head -1)\necho $X $HOME ${Y#z}\n",
        script_facts("amd64", "x86_64-linux-gnu"));
    ASSERT_EQ(commands.size(), 3u);
    EXPECT_EQ(commands[0].text(), "for f in a b");
    EXPECT_EQ(commands[1].text(), "update-alternatives --install ? ? ? 5");
    EXPECT_FALSE(commands[1].known());
    EXPECT_EQ(commands[2].text(), "echo ? ? ?");
}

TEST(ReadScript, SplitsOnOperatorsAndDropsKeywordsRedirectionsAndHereDocuments) {
    EXPECT_EQ(
        texts("if [ \"$1\" = configure ]; then adduser --system x >/dev/null 2>&1 || true; fi\n"
              "case \"$1\" in\n  configure)\n    cat <<EOF >/etc/x\nnot a command\nEOF\n"
              "    ;;\nesac\n"),
        (std::vector<std::string>{"[ configure = configure ]", "adduser --system x", "true",
                                  "case configure in", "configure", "cat"}));
    // An assignment before a command is its environment, not the script's.
    EXPECT_EQ(texts("V=1 run $V\n"), std::vector<std::string>{"run ?"});
    EXPECT_EQ(texts("export V=2; run $V 'a b'\\ c\n"), std::vector<std::string>{"run 2 a b c"});
}

}  // namespace
}  // namespace dmc::rootfs
