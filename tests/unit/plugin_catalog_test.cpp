#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

#include "plugin/catalog.hpp"
#include "util/fs.hpp"

namespace dmc::plugin {
namespace {

namespace fs = std::filesystem;
const fs::path kTestPlugins = DMC_TEST_PLUGIN_DIR;
const fs::path kBuiltin = DMC_BUILTIN_PLUGIN_DIR;

const Refusal* refusal_for(const Catalog& r, const std::string& file) {
    for (const auto& x : r.refusals())
        if (x.file.filename() == file) return &x;
    return nullptr;
}

// The built-in templates: one per folder of plugins/ in the source tree.
std::vector<std::string> builtin_template_names() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(fs::path(DMC_SOURCE_DIR) / "plugins"))
        if (entry.is_directory()) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

TEST(Catalog, EveryBuiltinTemplateLoads) {
    Catalog r;
    r.load_dirs({kBuiltin});
    EXPECT_TRUE(r.refusals().empty());
    std::vector<std::string> loaded;
    for (const auto& t : r.templates()) loaded.push_back(t.name);
    std::sort(loaded.begin(), loaded.end());
    EXPECT_EQ(loaded, builtin_template_names());
    const Template* nginx = r.find("nginx");
    ASSERT_NE(nginx, nullptr);
    EXPECT_EQ(nginx->group, "core");
    EXPECT_EQ(r.find("php")->group, "core");
    EXPECT_EQ(r.find("mariadb")->group, "base");
    EXPECT_EQ(r.find("adminer")->group, "app");
    EXPECT_EQ(r.find("adminer")->builds_on, (std::vector<std::string>{"php", "nginx"}));
    EXPECT_FALSE(nginx->description.empty());
}

TEST(Catalog, BrokenPluginsAreRefusedAndTheRestLoads) {
    TempDir dir;
    const auto marker = dir.path() / "initialiser-ran";
    ::setenv("DMC_TEST_MARKER", marker.c_str(), 1);
    Catalog r;
    r.load_dirs({kTestPlugins / "broken", kBuiltin});
    ::unsetenv("DMC_TEST_MARKER");

    // the built-in ones, despite the broken ones
    EXPECT_EQ(r.templates().size(), builtin_template_names().size());
    ASSERT_EQ(r.refusals().size(), 4u);

    const Refusal* garbage = refusal_for(r, "garbage.so");
    ASSERT_NE(garbage, nullptr);
    EXPECT_NE(garbage->reason.find("not a dmc plugin"), std::string::npos);

    const Refusal* stray = refusal_for(r, "not_a_plugin.so");
    ASSERT_NE(stray, nullptr);
    EXPECT_NE(stray->reason.find("no dmc_plugin_entry symbol"), std::string::npos);
    EXPECT_FALSE(fs::exists(marker)) << "a stray .so was loaded and ran its initialiser";

    const Refusal* abi = refusal_for(r, "wrong_abi.so");
    ASSERT_NE(abi, nullptr);
    EXPECT_NE(abi->reason.find("ABI 99"), std::string::npos) << abi->reason;
    EXPECT_NE(abi->reason.find("ABI " + std::to_string(DMC_PLUGIN_ABI_VERSION)), std::string::npos);
    EXPECT_NE(abi->message().find("wrong_abi.so"), std::string::npos);

    const Refusal* hook = refusal_for(r, "missing_hook.so");
    ASSERT_NE(hook, nullptr);
    EXPECT_NE(hook->reason.find("'collect'"), std::string::npos) << hook->reason;
    EXPECT_EQ(r.find("hookless"), nullptr);
}

TEST(Catalog, ANameThatIsNotOnePathComponentIsRefused) {
    Catalog r;
    r.load_dirs({kTestPlugins / "hostile"});
    EXPECT_TRUE(r.templates().empty());
    const Refusal* escaper = refusal_for(r, "escaping_name.so");
    ASSERT_NE(escaper, nullptr);
    EXPECT_NE(escaper->reason.find("'../escaped' is not valid"), std::string::npos)
        << escaper->reason;
}

// Only regular files are opened: a FIFO named like a plugin would block the reader
// of its symbol table forever. What cannot be read is named, not silently skipped.
TEST(Catalog, FifosLoopsAndMissingDirectoriesAreSkippedWithAWarning) {
    TempDir dir;
    const auto fifo = dir.path() / "fifo.so";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    fs::create_symlink("loop-b.so", dir.path() / "loop-a.so");
    fs::create_symlink("loop-a.so", dir.path() / "loop-b.so");
    fs::create_symlink(kBuiltin / "dmc-template-nginx.so", dir.path() / "linked.so");
    Catalog r;
    r.load_dirs({dir.path() / "missing", dir.path()});
    // The symlink to a real plugin is followed and loads.
    ASSERT_EQ(r.templates().size(), 1u);
    EXPECT_EQ(r.templates()[0].name, "nginx");
    EXPECT_EQ(r.skipped().size(), 4u);
    auto said = [&](const std::string& what) {
        for (const auto& s : r.skipped())
            if (s.find(what) != std::string::npos) return true;
        return false;
    };
    EXPECT_TRUE(said("missing does not exist"));
    EXPECT_TRUE(said("fifo.so skipped: not a regular file"));
    EXPECT_TRUE(said("loop-a.so skipped: Too many levels of symbolic links"));
    EXPECT_TRUE(said("loop-b.so skipped"));
}

// The boundary grows by appending fields: a plugin built against ABI 1 as first
// released loads into this host, and one built against a later SDK (with fields this
// host does not know) loads too, its extra fields ignored.
TEST(Catalog, PluginsOfOlderAndNewerStructSizesLoad) {
    Catalog r;
    r.load_dirs({kTestPlugins / "abi"});
    EXPECT_TRUE(r.refusals().empty()) << r.refusals().front().message();
    const Template* old_abi = r.find("old-abi");
    ASSERT_NE(old_abi, nullptr);
    EXPECT_EQ(old_abi->plugin.struct_size, DMC_PLUGIN_SIZE_V1);
    EXPECT_FALSE(old_abi->options) << "a field the plugin never wrote was read";
    EXPECT_EQ(old_abi->plugin.options, nullptr);
    const Template* new_abi = r.find("new-abi");
    ASSERT_NE(new_abi, nullptr);
    EXPECT_EQ(new_abi->plugin.struct_size, sizeof(dmc_plugin));
    ASSERT_TRUE(new_abi->options);
    ASSERT_EQ(new_abi->options->size(), 1u);
    EXPECT_EQ(new_abi->options->front().default_value, "3");
    EXPECT_EQ(new_abi->effective_options({{"new-abi", {{"level", "5"}}}}).at("level"), "5");
    EXPECT_EQ(new_abi->effective_options({}).at("level"), "3");
}

TEST(Catalog, DuplicateTemplateNameIsRefused) {
    Catalog r;
    r.load_dirs({kBuiltin, kTestPlugins / "duplicate"});
    ASSERT_EQ(r.refusals().size(), 1u);
    EXPECT_NE(r.refusals()[0].reason.find("already provided by"), std::string::npos);
    EXPECT_NE(r.refusals()[0].reason.find("dmc-template-nginx.so"), std::string::npos);
    EXPECT_EQ(r.find("nginx")->version, "1.0");  // the first one found stays
}

TEST(Catalog, SearchOrderDecidesWhichCopyWins) {
    Catalog r;
    r.load_dirs({kTestPlugins / "duplicate", kBuiltin});
    EXPECT_EQ(r.find("nginx")->version, "0.0");
    EXPECT_EQ(r.refusals().size(), 1u);
}

TEST(Catalog, MissingDirectoryIsSkipped) {
    Catalog r;
    r.load_dirs({"/nonexistent/plugins", kTestPlugins / "external"});
    EXPECT_TRUE(r.refusals().empty());
    ASSERT_NE(r.find("hello"), nullptr);
    EXPECT_EQ(r.find("hello")->builds_on, std::vector<std::string>{"nginx"});
}

TEST(Catalog, BuiltinDirsAreNextToTheExecutable) {
    auto dirs = builtin_dirs();
    ASSERT_EQ(dirs.size(), 2u);
    EXPECT_EQ(dirs[0].filename(), "plugins");
    EXPECT_NE(dirs[1].string().find("lib/dmc/plugins"), std::string::npos);
}

}  // namespace
}  // namespace dmc::plugin
