#include "tasks/tasks.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "util/error.hpp"

namespace dmc::tasks {
namespace {

std::vector<Task> create_plan() {
    return plan({.activity = "create",
                 .templates = {"nginx", "php"},
                 .archs = {"amd64", "arm64"},
                 .dist = "trixie"});
}

TEST(Tasks, CreatePlanIsOrderedByTemplateThenArchWithThePacksLast) {
    auto tasks = create_plan();
    ASSERT_EQ(tasks.size(), 2u * (2 * 5 + 1));
    EXPECT_EQ(tasks[0].name, "nginx.amd64.prepare");
    EXPECT_EQ(tasks[3].name, "nginx.amd64.configure");
    EXPECT_EQ(tasks[4].name, "nginx.arm64.prepare");
    EXPECT_EQ(tasks[7].name, "nginx.arm64.configure");
    EXPECT_EQ(tasks[8].name, "nginx.amd64.pack");
    EXPECT_EQ(tasks[9].name, "nginx.arm64.pack");
    EXPECT_EQ(tasks[9].step, Step::pack);
    EXPECT_EQ(tasks[10].name, "nginx.index");
    EXPECT_EQ(tasks[11].name, "php.amd64.prepare");
    EXPECT_EQ(tasks[11].template_name, "php");
    EXPECT_EQ(tasks[11].arch, "amd64");
    EXPECT_EQ(tasks[11].step, Step::prepare);
}

TEST(Tasks, PushOnlyWithARegistryAndForLoad) {
    auto no_push = create_plan();
    for (const auto& t : no_push) EXPECT_NE(t.step, Step::push);
    auto push =
        plan({.activity = "create", .templates = {"nginx"}, .archs = {"amd64"}, .push = true});
    EXPECT_EQ(push[push.size() - 2].name, "nginx.push");
    EXPECT_EQ(push.back().name, "nginx.attach");  // the SBOMs as referrers, signed or not
    EXPECT_EQ(push.back().step, Step::attach);
    auto load = plan({.activity = "load", .templates = {"nginx", "php"}, .archs = {"amd64"}});
    ASSERT_EQ(load.size(), 4u);
    EXPECT_EQ(load[2].name, "php.push");
    EXPECT_EQ(load[3].name, "php.attach");
}

TEST(Tasks, DeleteSetupUpdateResolve) {
    auto del =
        plan({.activity = "create", .templates = {"nginx"}, .archs = {"amd64"}, .remove = true});
    ASSERT_EQ(del.size(), 1u);
    EXPECT_EQ(del[0].step, Step::remove);
    auto setup = plan({.activity = "setup", .archs = {"amd64", "arm64"}, .dist = "trixie"});
    ASSERT_EQ(setup.size(), 3u);
    EXPECT_EQ(setup[1].name, "setup.amd64");
    auto update = plan({.activity = "update", .archs = {"arm64"}});
    ASSERT_EQ(update.size(), 1u);
    EXPECT_EQ(update[0].step, Step::update);
    auto resolve = plan({.activity = "resolve", .archs = {"amd64"}});
    EXPECT_EQ(resolve[0].name, "resolve.amd64");
}

TEST(Tasks, SetupAndUpdateTakeCareOfBuildsFromSource) {
    // Named templates: setup fetches their sources and makes their build environments;
    // update remakes those after the lock.
    auto setup = plan({.activity = "setup", .templates = {"nginx-src"}, .archs = {"amd64"}});
    ASSERT_EQ(setup.size(), 5u);
    EXPECT_EQ(setup[2].name, "nginx-src.amd64.prepare");
    EXPECT_EQ(setup[3].name, "setup.sources");
    EXPECT_EQ(setup[3].step, Step::sources);
    EXPECT_EQ(setup[4].name, "setup.buildenv");
    EXPECT_EQ(setup[4].step, Step::buildenv);
    auto update = plan({.activity = "update", .templates = {"nginx-src"}, .archs = {"amd64"}});
    ASSERT_EQ(update.size(), 4u);
    EXPECT_EQ(update[2].step, Step::lock);
    EXPECT_EQ(update[3].name, "update.buildenv");
    EXPECT_EQ(update[3].step, Step::update_buildenv);
}

TEST(Tasks, DeployAfterThePushOrAlone) {
    // create deploys at the end only when it pushes and a cluster is there.
    auto without_cluster =
        plan({.activity = "create", .templates = {"nginx"}, .archs = {"amd64"}, .push = true});
    for (const auto& t : without_cluster) EXPECT_NE(t.step, Step::deploy);
    auto with_cluster = plan({.activity = "create",
                              .templates = {"nginx"},
                              .archs = {"amd64"},
                              .push = true,
                              .deploy = true});
    ASSERT_GE(with_cluster.size(), 2u);
    EXPECT_EQ(with_cluster[with_cluster.size() - 3].name, "nginx.push");
    EXPECT_EQ(with_cluster.back().name, "nginx.deploy");
    EXPECT_EQ(with_cluster.back().step, Step::deploy);
    auto unpushed =
        plan({.activity = "create", .templates = {"nginx"}, .archs = {"amd64"}, .deploy = true});
    for (const auto& t : unpushed) EXPECT_NE(t.step, Step::deploy);
    auto deploy = plan({.activity = "deploy", .templates = {"mariadb", "adminer"}});
    ASSERT_EQ(deploy.size(), 2u);
    EXPECT_EQ(deploy[1].name, "adminer.deploy");
    auto remove = plan({.activity = "deploy", .templates = {"nginx"}, .remove = true});
    ASSERT_EQ(remove.size(), 1u);
    EXPECT_EQ(remove[0].step, Step::remove);
    EXPECT_TRUE(is_activity("deploy"));
}

TEST(Tasks, SelectByNumberAndByName) {
    auto tasks = create_plan();
    EXPECT_EQ(find_task(tasks, "1"), 0u);
    EXPECT_EQ(find_task(tasks, "nginx.arm64.collect"), 6u);
    auto range =
        task_range(tasks, std::string("3"), std::string("nginx.arm64.prepare"), std::nullopt);
    EXPECT_EQ(range, (std::vector<std::size_t>{2, 3, 4}));
    auto from = task_range(tasks, std::string("php.index"), std::nullopt, std::nullopt);
    EXPECT_EQ(from, (std::vector<std::size_t>{21}));
    auto to = task_range(tasks, std::nullopt, std::string("2"), std::nullopt);
    EXPECT_EQ(to, (std::vector<std::size_t>{0, 1}));
    auto only = task_range(tasks, std::nullopt, std::nullopt, std::string("nginx.index"));
    EXPECT_EQ(only, (std::vector<std::size_t>{10}));
    EXPECT_EQ(task_range(tasks, std::nullopt, std::nullopt, std::nullopt).size(), tasks.size());
}

TEST(Tasks, BadSelectionsAreUsageErrors) {
    auto tasks = create_plan();
    EXPECT_THROW(find_task(tasks, "0"), UsageError);
    EXPECT_THROW(find_task(tasks, "23"), UsageError);
    EXPECT_THROW(find_task(tasks, "nginx.mips.pack"), UsageError);
    EXPECT_THROW(task_range(tasks, std::string("5"), std::string("2"), std::nullopt), UsageError);
}

TEST(Tasks, ListFormat) {
    std::ostringstream out;
    print(out, create_plan());
    std::string text = out.str();
    EXPECT_EQ(text.rfind("  1 nginx.amd64.prepare", 0), 0u) << text;
    EXPECT_NE(text.find(" 11 nginx.index                      : Write the nginx image index"),
              std::string::npos)
        << text;
}

TEST(Tasks, RunStopsAtTheFirstFailureAndResumes) {
    auto tasks = create_plan();
    std::vector<std::string> ran;
    auto failed =
        run(tasks, task_range(tasks, std::nullopt, std::nullopt, std::nullopt), [&](const Task& t) {
            ran.push_back(t.name);
            if (t.name == "nginx.amd64.collect") throw Error("boom");
        });
    ASSERT_TRUE(failed);
    EXPECT_EQ(*failed, 2u);
    EXPECT_EQ(ran.size(), 3u);
    ran.clear();
    auto resumed =
        run(tasks, task_range(tasks, std::to_string(*failed + 1), std::nullopt, std::nullopt),
            [&](const Task& t) { ran.push_back(t.name); });
    EXPECT_FALSE(resumed);
    EXPECT_EQ(ran.front(), "nginx.amd64.collect");
    EXPECT_EQ(ran.size(), tasks.size() - 2);
}

TEST(Tasks, Activities) {
    for (const char* a : {"setup", "update", "create", "load", "resolve"})
        EXPECT_TRUE(is_activity(a));
    EXPECT_FALSE(is_activity("destroy"));
}

}  // namespace
}  // namespace dmc::tasks
