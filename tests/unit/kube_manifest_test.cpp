#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "kube/manifest.hpp"
#include "util/error.hpp"

using namespace dmc::kube;
using json = nlohmann::ordered_json;

namespace {

// What YAML reads back from the printed text, as JSON.
json read_back(const std::string& yaml) { return parse_object(yaml, "test"); }

TEST(KubeManifest, YamlReadsBackAsTheSameObject) {
    const json o = json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"x","labels":{"app.kubernetes.io/version":"1.26.3-3_deb13u1"}},
      "data":{"port":"8080","yes":"yes","null":"null","empty":"","colon":"a: b","hash":"#x",
              "config":"server {\n    listen 80;\n}\n","nonl":"a\nb","twonl":"a\n\n",
              "lead":" space\nx\n","bool":"true","float":"1.5","octal":"0755","yes11":"yes","Off":"Off","y":"y","hex":"0x1F",
              "inf":".inf","under":"1_000","minus":"-1","on":"on","sexa":"1:20","day":"2026-12-01",
              "ver":"1.26.3-3_deb13u1","img":"127.0.0.1:5000/x@sha256:ab","mem":"32Mi",
              "list":[1,"2",true,null,{"k":"v","n":[]}],"nested":[[1,2],[]],"obj":{}}})");
    const std::string yaml = to_yaml(o);
    EXPECT_EQ(read_back(yaml), o) << yaml;
    EXPECT_NE(yaml.find("apiVersion: v1\nkind: ConfigMap\n"), std::string::npos) << yaml;
    EXPECT_NE(yaml.find("  config: |\n    server {\n        listen 80;\n    }\n"),
              std::string::npos)
        << yaml;
    EXPECT_NE(yaml.find("port: \"8080\""), std::string::npos) << yaml;
    // YAML 1.1 readers (kubectl's go-yaml) take these for booleans and numbers: quoted.
    for (const char* quoted :
         {"yes11: \"yes\"", "\"Off\": \"Off\"", "\"y\": \"y\"", "hex: \"0x1F\"", "inf: \".inf\"",
          "under: \"1_000\"", "minus: \"-1\"", "\"on\": \"on\""})
        EXPECT_NE(yaml.find(quoted), std::string::npos) << quoted << "\n" << yaml;
    for (const char* plain : {"sexa: \"1:20\"", "day: \"2026-12-01\"", "ver: 1.26.3-3_deb13u1",
                              "img: 127.0.0.1:5000/x@sha256:ab", "mem: 32Mi"})
        EXPECT_NE(yaml.find(plain), std::string::npos) << plain << "\n" << yaml;
}

TEST(KubeManifest, ObjectsNeedKindVersionAndAValidName) {
    EXPECT_NO_THROW(
        parse_object(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"a-b.c"}})", "t"));
    EXPECT_THROW(parse_object(R"({"kind":"Service","metadata":{"name":"a"}})", "t"), dmc::Error);
    EXPECT_THROW(parse_object(R"({"apiVersion":"v1","metadata":{"name":"a"}})", "t"), dmc::Error);
    EXPECT_THROW(
        parse_object(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"Web_1"}})", "t"),
        dmc::Error);
    EXPECT_THROW(parse_object(R"({"apiVersion":"v1","kind":"Service"})", "t"), dmc::Error);
    EXPECT_THROW(parse_object("[1, 2]", "t"), dmc::Error);
    EXPECT_THROW(parse_object("a: [unclosed", "t"), dmc::Error);
    // YAML from a plugin is read with YAML's core schema.
    const json y = parse_object(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 80\n    "
        "name: \"80\"\n",
        "t");
    EXPECT_EQ(y["spec"]["ports"][0]["port"], 80);
    EXPECT_EQ(y["spec"]["ports"][0]["name"], "80");
}

TEST(KubeManifest, ValidNames) {
    EXPECT_TRUE(valid_object_name("nginx"));
    EXPECT_TRUE(valid_object_name("mariadb-credentials"));
    EXPECT_FALSE(valid_object_name(""));
    EXPECT_FALSE(valid_object_name("-x"));
    EXPECT_FALSE(valid_object_name("x-"));
    EXPECT_FALSE(valid_object_name("../x"));
    EXPECT_FALSE(valid_object_name(std::string(254, 'a')));
}

}  // namespace
