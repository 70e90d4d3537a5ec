// The conformance suite on posix:forkserver. The fork server is this
// process's child for the whole run (as CPython's): it is started before the
// first test, so each test's "leaves nothing behind" baseline holds it and
// its descriptors, and checks what each Start leaves.
#include "absl/status/status.h"
#include "api/context.h"
#include "api/process.h"
#include "api/target.h"
#include "gtest/gtest.h"
#include "tests/backends/posix_probe.h"
#include "tests/conformance/conformance.h"
#include "workloads/workloads.h"

namespace mproc::testing {
namespace {

class StartForkServer : public ::testing::Environment {
 public:
  void SetUp() override {
    absl::StatusOr<Context> ctx = GetContext("posix:forkserver");
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    Process warm = ctx->NewProcess(Target(&workloads::ExitWith, 0));
    ASSERT_TRUE(warm.Start().ok());
    ASSERT_TRUE(warm.Join().ok());
    ASSERT_EQ(warm.exitcode(), 0);
  }
};

[[maybe_unused]] ::testing::Environment* const start_fork_server =
    ::testing::AddGlobalTestEnvironment(new StartForkServer);

}  // namespace
}  // namespace mproc::testing

MPROC_INSTANTIATE_CONFORMANCE_SUITE(
    PosixForkServer, (mproc::conformance::BackendUnderTest{
                         .label = "PosixForkServer",
                         .context = "posix:forkserver",
                         .probe = &mproc::testing::ProbePosixResources}));
