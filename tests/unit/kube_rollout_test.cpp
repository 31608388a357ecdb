#include <gtest/gtest.h>

#include "kube/operations.hpp"

using dmc::kube::pause_before_look;
using std::chrono::milliseconds;

TEST(KubeRollout, QuickLooksFirstThenThePollInterval) {
    EXPECT_EQ(pause_before_look(1, milliseconds(1000)), milliseconds(125));
    EXPECT_EQ(pause_before_look(2, milliseconds(1000)), milliseconds(250));
    EXPECT_EQ(pause_before_look(4, milliseconds(1000)), milliseconds(1000));
    EXPECT_EQ(pause_before_look(40, milliseconds(1000)), milliseconds(1000));
    EXPECT_EQ(pause_before_look(3, milliseconds(300)), milliseconds(300));
}
