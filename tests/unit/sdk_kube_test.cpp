// The SDK's Kubernetes builders, as a template uses them: what reaches the host is
// JSON with dmc's labels, the image's numeric user and a locked-down securityContext.
#include <gtest/gtest.h>

#include <dmc/sdk.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
namespace kube = dmc::sdk::kube;

struct Host {
    std::map<std::string, std::string> settings{{"template", "web"},
                                                {"image", "reg/web@sha256:abc"},
                                                {"image_version", "1:2.4+b1"},
                                                {"uid", "33"},
                                                {"gid", "34"}};
    std::vector<std::string> objects;
    std::vector<std::pair<std::string, std::vector<std::string>>> secrets;
};

const char* setting(void* o, const char* key) {
    auto& s = static_cast<Host*>(o)->settings;
    auto it = s.find(key);
    return it == s.end() ? nullptr : it->second.c_str();
}
void ignore_log(void*, int, const char*) {}
void ignore_fail(void*, const char*) {}

struct Fixture {
    Host host;
    dmc_host h{sizeof(dmc_host), &host, ignore_log, ignore_fail, setting};
    dmc_deploy_ctx ctx{};
    Fixture() {
        ctx.struct_size = sizeof ctx;
        ctx.host = &h;
        ctx.opaque = &host;
        ctx.add_object = [](void* o, const char* text) {
            static_cast<Host*>(o)->objects.emplace_back(text);
        };
        ctx.add_generated_secret = [](void* o, const char* name, const char* const* keys,
                                      std::size_t n) {
            static_cast<Host*>(o)->secrets.push_back({name, {keys, keys + n}});
        };
    }
};

TEST(SdkKube, ValueDumpsJsonInInsertionOrder) {
    kube::Value v = kube::Value::object();
    v["b"] = 1;
    v["a"] = "x\"\n\x01";
    v["l"] = kube::Value::list(true, "s", 3);
    v["e"] = kube::Value::object();
    EXPECT_EQ(v.dump(), R"({"b":1,"a":"x\"\n\u0001","l":[true,"s",3],"e":{}})");
    EXPECT_EQ(json::parse(v.dump())["a"], "x\"\n\x01");
}

TEST(SdkKube, DeploymentWithLabelsUserProbesAndVolumes) {
    Fixture f;
    dmc::sdk::Deploy d(&f.ctx);
    kube::Container c;
    c.name = "web";
    c.ports = {{"http", 8080}};
    c.readiness = kube::Probe::http("/", "http");
    c.writable = {"/tmp", "/var/lib/web"};
    c.config_files = {{"web-config", "site.conf", "/etc/web/site.conf"}};
    d.deployment("web", "web-server", {c});
    d.service("web", "web-server", {{"http", 8080}});
    ASSERT_EQ(f.host.objects.size(), 2u);
    const json o = json::parse(f.host.objects[0]);
    EXPECT_EQ(o["kind"], "Deployment");
    const json labels = o["metadata"]["labels"];
    EXPECT_EQ(labels["app.kubernetes.io/name"], "web");
    EXPECT_EQ(labels["app.kubernetes.io/managed-by"], "dmc");
    EXPECT_EQ(labels["app.kubernetes.io/version"], "2.4_b1");  // a valid label value
    const json selector = o["spec"]["selector"]["matchLabels"];
    for (const auto& [k, v] : selector.items())
        EXPECT_EQ(o["spec"]["template"]["metadata"]["labels"][k], v) << k;
    const json pod = o["spec"]["template"]["spec"];
    EXPECT_EQ(pod["securityContext"]["runAsUser"], 33);
    EXPECT_EQ(pod["securityContext"]["runAsGroup"], 34);
    EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    const json sc = pod["containers"][0]["securityContext"];
    EXPECT_TRUE(sc["readOnlyRootFilesystem"]);
    EXPECT_TRUE(sc["runAsNonRoot"]);
    EXPECT_FALSE(sc["allowPrivilegeEscalation"]);
    EXPECT_EQ(sc["capabilities"]["drop"], json::array({"ALL"}));
    EXPECT_EQ(pod["containers"][0]["image"], "reg/web@sha256:abc");
    EXPECT_EQ(pod["containers"][0]["readinessProbe"]["httpGet"]["port"], "http");
    EXPECT_EQ(pod["containers"][0]["livenessProbe"]["initialDelaySeconds"], 10);
    // One volume per mount, each declared once.
    ASSERT_EQ(pod["volumes"].size(), 3u);
    EXPECT_TRUE(pod["volumes"][0].contains("emptyDir"));
    EXPECT_EQ(pod["volumes"][2]["configMap"]["name"], "web-config");
    EXPECT_EQ(pod["containers"][0]["volumeMounts"][2]["subPath"], "site.conf");
    const json svc = json::parse(f.host.objects[1]);
    EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], "http");
    EXPECT_EQ(svc["spec"]["selector"], selector);
}

TEST(SdkKube, InitContainersTakeNoProbesAndShareVolumes) {
    kube::Container step;
    step.name = "update";
    step.readiness = kube::Probe::tcp("x");
    step.writable = {"/tmp"};
    step.existing_claims = {{"cache", "/var/cache"}};
    kube::Container main = step;
    main.name = "build";
    const json spec = json::parse(kube::pod_spec({main}, "img", {}, {step}).dump());
    EXPECT_FALSE(spec["initContainers"][0].contains("readinessProbe"));
    EXPECT_TRUE(spec["containers"][0].contains("readinessProbe"));
    ASSERT_EQ(spec["volumes"].size(), 2u);
    EXPECT_EQ(spec["volumes"][1]["persistentVolumeClaim"]["claimName"], "cache");
    EXPECT_EQ(spec["securityContext"]["runAsUser"], 65534);  // nobody without a user
}

TEST(SdkKube, GeneratedSecretNeedsAHostThatKnowsIt) {
    Fixture f;
    dmc::sdk::Deploy d(&f.ctx);
    d.generated_secret("db-credentials", {"root-password", "password"});
    ASSERT_EQ(f.host.secrets.size(), 1u);
    EXPECT_EQ(f.host.secrets[0].second, (std::vector<std::string>{"root-password", "password"}));
    f.ctx.struct_size = DMC_DEPLOY_CTX_SIZE_V1;  // a host of the first release
    dmc::sdk::Deploy old(&f.ctx);
    EXPECT_THROW(old.generated_secret("x", {"k"}), std::runtime_error);
    EXPECT_EQ(f.host.secrets.size(), 1u);
}

}  // namespace
