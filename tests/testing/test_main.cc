// The main of every mproc test binary: a re-executed child runs its target
// and exits here, before GoogleTest sees the command line.
#include "api/target.h"
#include "gtest/gtest.h"

int main(int argc, char** argv) {
  mproc::RunChildIfRequested(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
