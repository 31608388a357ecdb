#include <gtest/gtest.h>

#include "kube/resources.hpp"
#include "util/error.hpp"

using namespace dmc::kube;

namespace {

TEST(KubeResources, PathsOfCoreAndGroupedKinds) {
    EXPECT_EQ(resource_for("v1", "Service").path("web", "nginx"),
              "/api/v1/namespaces/web/services/nginx");
    EXPECT_EQ(resource_for("apps/v1", "StatefulSet").path("web"),
              "/apis/apps/v1/namespaces/web/statefulsets");
    EXPECT_EQ(resource_for("v1", "Namespace").path("ignored", "web"), "/api/v1/namespaces/web");
    EXPECT_EQ(resource_for("apps/v1", "Deployment").qualified(), "deployments.apps");
    EXPECT_EQ(resource_for("v1", "Secret").qualified(), "secrets");
    EXPECT_THROW(resource_for("apps/v1beta1", "Deployment"), dmc::Error);
    EXPECT_THROW(resource_for("example.com/v1", "Widget"), dmc::Error);
}

}  // namespace
