// POSIX only: the posix backend's Child handle, driven directly through the
// porting interface: concurrent waits and signals, and a handle destroyed
// while its child runs.
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "api/backend.h"
#include "gtest/gtest.h"
#include "tests/backends/posix_probe.h"
#include "tests/backends/posix_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/workloads.h"

namespace mproc {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(30);

class PosixChildTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Launches `target` directly on the posix backend.
  absl::StatusOr<std::unique_ptr<Child>> Launch(TargetCall target) {
    Backend* posix = FindBackend("posix");
    if (posix == nullptr) return absl::NotFoundError("posix is not linked");
    LaunchRequest request;
    request.child.name = "direct";
    request.child.identity = {1};
    request.child.parent_pid = getpid();
    request.child.parent_name = "MainProcess";
    request.start_method = GetParam();
    request.target = std::move(target);
    return posix->Launch(request);
  }
};

TEST_P(PosixChildTest, ConcurrentWaitsAndSignalsAgreeOnOneExitStatus) {
  const conformance::ResourceSnapshot baseline = testing::ProbePosixResources();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Child> child,
                       Launch(Target(&workloads::RunUntilTerminated)));
  std::vector<std::optional<ExitStatus>> seen(4);
  std::vector<std::thread> waiters;
  for (auto& slot : seen) {
    waiters.emplace_back([&child, &slot] {
      absl::StatusOr<std::optional<ExitStatus>> exit =
          child->Wait(absl::InfiniteFuture());
      if (exit.ok()) slot = *exit;
    });
  }
  // Pollers and signallers race the waiters; every signal is OK, before or
  // after the reap.
  std::vector<std::thread> signallers;
  for (int i = 0; i < 4; ++i) {
    signallers.emplace_back([&child, i] {
      for (int j = 0; j < 50; ++j) {
        EXPECT_OK(i % 2 == 0 ? child->Terminate() : child->Kill());
        EXPECT_OK(child->Wait(absl::InfinitePast()).status());
      }
    });
  }
  for (std::thread& t : signallers) t.join();
  for (std::thread& t : waiters) t.join();
  ASSERT_TRUE(seen[0].has_value());
  EXPECT_TRUE(*seen[0] == ExitStatus::Signaled(15) ||
              *seen[0] == ExitStatus::Signaled(9));
  for (const auto& exit : seen) EXPECT_EQ(exit, seen[0]);
  ASSERT_OK_AND_ASSIGN(std::optional<ExitStatus> again,
                       child->Wait(absl::InfinitePast()));
  EXPECT_EQ(again, seen[0]);
  EXPECT_OK(child->Kill());                             // ended: no effect
  EXPECT_EQ(testing::ProbePosixResources(), baseline);  // pidfd closed at reap
}

TEST_P(PosixChildTest, WaitWithDeadlineReturnsNulloptWhileRunning) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Child> child,
                       Launch(Target(&workloads::RunUntilTerminated)));
  ASSERT_OK_AND_ASSIGN(std::optional<ExitStatus> early,
                       child->Wait(absl::Now() + absl::Milliseconds(20)));
  EXPECT_EQ(early, std::nullopt);
  ASSERT_OK(child->Kill());
  ASSERT_OK_AND_ASSIGN(std::optional<ExitStatus> late,
                       child->Wait(absl::Now() + kDeadline));
  EXPECT_EQ(late, ExitStatus::Signaled(9));
}

TEST_P(PosixChildTest, HandleDestroyedWhileRunningIsReapedByTheNextLaunch) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Child> child,
                       Launch(Target(&workloads::RunUntilTerminated)));
  const int64_t pid = child->pid();
  const int watch = testing::OpenPidfdFor(pid);
  ASSERT_GE(watch, 0);
  // (A fork server of an earlier test may be a child too.)
  const int64_t others = testing::CountChildProcesses() - 1;
  child.reset();  // runs on
  EXPECT_EQ(testing::CountChildProcesses(), others + 1);
  ASSERT_EQ(syscall(SYS_pidfd_send_signal, watch, SIGKILL, nullptr, 0), 0);
  ASSERT_TRUE(testing::WaitForProcessEnd(watch, kDeadline));
  close(watch);
  EXPECT_EQ(testing::CountChildProcesses(), others + 1);  // a zombie, for now
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Child> next,
                       Launch(Target(&workloads::ExitWith, 3)));
  ASSERT_OK_AND_ASSIGN(std::optional<ExitStatus> exit,
                       next->Wait(absl::Now() + kDeadline));
  EXPECT_EQ(exit, ExitStatus::Exited(3));
  EXPECT_EQ(testing::CountChildProcesses(), others);
}

INSTANTIATE_TEST_SUITE_P(Posix, PosixChildTest,
                         ::testing::Values("fork", "spawn"),
                         testing::StartMethodTestName);

}  // namespace
}  // namespace mproc
