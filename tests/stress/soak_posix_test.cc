// The soak suite on the posix backend, once per start method.
#include "absl/status/statusor.h"
#include "api/context.h"
#include "api/process.h"
#include "gtest/gtest.h"
#include "tests/backends/posix_probe.h"
#include "tests/stress/soak.h"
#include "workloads/workloads.h"

MPROC_INSTANTIATE_SOAK_SUITE(
    PosixFork, (mproc::conformance::BackendUnderTest{
                   .label = "PosixFork",
                   .context = "posix:fork",
                   .probe = &mproc::testing::ProbePosixResources}));

MPROC_INSTANTIATE_SOAK_SUITE(
    PosixSpawn, (mproc::conformance::BackendUnderTest{
                    .label = "PosixSpawn",
                    .context = "posix:spawn",
                    .probe = &mproc::testing::ProbePosixResources}));

namespace mproc::testing {
namespace {

// The fork server lives as long as this process once started: started here,
// before the first baseline, so the probes hold it.
conformance::ResourceSnapshot ProbeWithForkServerRunning() {
  static const bool started = [] {
    absl::StatusOr<Context> ctx = GetContext("posix:forkserver");
    if (!ctx.ok()) return false;
    Process warm = ctx->NewProcess(Target(&workloads::ExitWith, 0));
    return warm.Start().ok() && warm.Join().ok();
  }();
  EXPECT_TRUE(started) << "cannot start the fork server";
  return ProbePosixResources();
}

}  // namespace
}  // namespace mproc::testing

MPROC_INSTANTIATE_SOAK_SUITE(
    PosixForkServer,
    (mproc::conformance::BackendUnderTest{
        .label = "PosixForkServer",
        .context = "posix:forkserver",
        .probe = &mproc::testing::ProbeWithForkServerRunning}));
