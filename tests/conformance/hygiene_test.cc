// Nothing left behind (docs/design.md §5): many start/join cycles, a child
// handle destroyed while its child runs, a killed Manager server, a killed
// Manager owner's address; and a child holds none of its parent's other
// descriptors or handles.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "api/backend.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/manager.h"
#include "api/process.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/workloads.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::StatusIs;

// 1 000, or fewer where a sanitizer preset sets the soak suite's size
// (MPROC_SOAK_CYCLES): a sanitized child costs tens of milliseconds to start.
int64_t StartJoinCycles() {
  int64_t cycles = 0;
  const char* value = std::getenv("MPROC_SOAK_CYCLES");
  if (value != nullptr && absl::SimpleAtoi(value, &cycles) && cycles > 0) {
    return std::min<int64_t>(cycles, 1000);
  }
  return 1000;
}

TEST_P(ConformanceTest, ManyStartJoinCyclesLeaveNothingBehind) {
  const int64_t cycles = StartJoinCycles();
  for (int64_t i = 0; i < cycles; ++i) {
    Process p = ctx().NewProcess(Target(&workloads::ExitWith, i % 256));
    ASSERT_OK(p.Start()) << "cycle " << i;
    ASSERT_OK(p.Join(kDeadline)) << "cycle " << i;
    ASSERT_EQ(p.exitcode(), i % 256) << "cycle " << i;
  }
  // TearDown compares the probe with the baseline.
}

TEST_P(ConformanceTest, ChildHoldsNoneOfItsParentsOtherDescriptors) {
  MPROC_REQUIRE_CAPABILITY(separate_descriptors);
  MPROC_REQUIRE_HOOK(forbidden_descriptor_census);
  // What this process holds that a child must not: a Manager connection,
  // and another child's handle.
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));
  Process sibling = ctx().NewProcess(Target(&workloads::RunUntilTerminated));
  ASSERT_OK(sibling.Start());
  for (bool daemon : {false, true}) {
    Process p = ctx().NewProcess(GetParam().forbidden_descriptor_census(),
                                 {.daemon = daemon});
    ASSERT_OK(p.Start());
    ASSERT_OK(p.Join(kDeadline));
    EXPECT_EQ(p.exitcode(), 0)
        << "a " << (daemon ? "daemon" : "non-daemon")
        << " child holds this many forbidden descriptors";
  }
  ASSERT_OK(sibling.Terminate());
  ASSERT_OK(sibling.Join(kDeadline));
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ChildHandleDestroyedWhileRunningIsReapedLater) {
  MPROC_REQUIRE_HOOK(is_pid_alive);
  MPROC_REQUIRE_HOOK(kill_pid);
  auto launch = [&](TargetCall target) {
    LaunchRequest request;
    request.child.name = "direct";
    request.child.identity = {1};
    request.child.parent_pid = ctx().backend().HostPid();
    request.child.parent_name = "MainProcess";
    request.start_method = ctx().start_method().name;
    request.target = std::move(target);
    return ctx().backend().Launch(request);
  };
  const ResourceSnapshot baseline = GetParam().probe();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Child> child,
                       launch(Target(&workloads::RunUntilTerminated)));
  const int64_t pid = child->pid();
  child.reset();  // the child runs on
  ASSERT_TRUE(GetParam().is_pid_alive(pid));
  GetParam().kill_pid(pid);
  ASSERT_TRUE(testing::WaitUntil([&] { return !GetParam().is_pid_alive(pid); },
                                 kDeadline));
  // The backend reaps it later (the posix backend: at its next Launch).
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Child> next,
                       launch(Target(&workloads::ExitWith, 3)));
  ASSERT_OK_AND_ASSIGN(std::optional<ExitStatus> exit,
                       next->Wait(absl::Now() + kDeadline));
  EXPECT_EQ(exit, ExitStatus::Exited(3));
  next.reset();
  EXPECT_TRUE(testing::WaitUntil([&] { return GetParam().probe() == baseline; },
                                 kDeadline))
      << GetParam().probe() << " vs " << baseline;
}

TEST_P(ConformanceTest, ManagerAddressIsGoneAfterShutdown) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  const std::string address = manager.address();
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));
  ASSERT_OK(manager.Shutdown());
  EXPECT_THAT(ctx().backend().Connect(address),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_P(ConformanceTest, ShutdownOfAKilledManagerFailsCleanly) {
  MPROC_REQUIRE_HOOK(kill_pid);
  {
    ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
    ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
    ASSERT_OK(list.Append(1));
    GetParam().kill_pid(*manager.pid());
    EXPECT_THAT(list.Size(), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_FALSE(manager.Shutdown().ok());
  }
  EXPECT_TRUE(ActiveChildren().empty());
}

TEST_P(ConformanceTest, StaleAddressOfAKilledManagerOwnerIsCleanedUp) {
  MPROC_REQUIRE_HOOK(leave_stale_address);
  const StaleAddress stale = GetParam().leave_stale_address();
  ASSERT_TRUE(stale.still_there && stale.still_there())
      << "the hook could not leave a stale address";
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  EXPECT_FALSE(stale.still_there())
      << "the next Manager left a killed owner's address in place";
  ASSERT_OK(manager.Shutdown());
}

}  // namespace
}  // namespace mproc::conformance
