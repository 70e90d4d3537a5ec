// Parent-death containment (docs/design.md §4, "parent dies abnormally"): a
// killed parent's kill_on_parent_death children (daemons, Manager servers)
// end, whichever of its threads started them; and a thread that started
// children ending does not end them.
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
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

// The contract's bound is 1 s; the tests allow ten times that on a loaded
// machine (timings live in bench/ and scripts/stress).
constexpr absl::Duration kContainmentDeadline = absl::Seconds(10);

// Starts a parent that starts a daemon and a Manager (from a worker thread
// that then ends, or not), kills it, and checks that both end with it.
void CheckKilledParentTakesItsOrphans(const Context& ctx,
                                      const BackendUnderTest& backend,
                                      bool from_worker_thread) {
  ASSERT_OK_AND_ASSIGN(Manager collector, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> pids, collector.List<int64_t>());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> addresses,
                       collector.List<std::string>());
  Process parent = ctx.NewProcess(
      Target(&workloads::StartOrphansThenRunUntilKilled, backend.context,
             from_worker_thread, pids, addresses),
      {.name = "doomed parent"});
  ASSERT_OK(parent.Start());
  ASSERT_TRUE(testing::WaitForListSize(pids, 2, ConformanceTest::kDeadline));
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> orphans, pids.Snapshot());
  ASSERT_EQ(orphans.size(), 2u);
  for (int64_t pid : orphans) EXPECT_TRUE(backend.is_pid_alive(pid)) << pid;

  ASSERT_OK(parent.Kill());
  ASSERT_OK(parent.Join(ConformanceTest::kDeadline));
  EXPECT_EQ(parent.exitcode(), -9);
  const char* const what[] = {"the daemon child", "the Manager server"};
  for (size_t i = 0; i < orphans.size(); ++i) {
    EXPECT_TRUE(
        testing::WaitUntil([&] { return !backend.is_pid_alive(orphans[i]); },
                           kContainmentDeadline))
        << what[i] << " (pid " << orphans[i] << ") outlived its killed parent";
    backend.kill_pid(orphans[i]);  // leave no orphan should the test fail
  }
  ASSERT_OK(collector.Shutdown());
}

TEST_P(ConformanceTest, KilledParentEndsItsDaemonAndManager) {
  MPROC_REQUIRE_HOOK(is_pid_alive);
  MPROC_REQUIRE_HOOK(kill_pid);
  CheckKilledParentTakesItsOrphans(ctx(), GetParam(),
                                   /*from_worker_thread=*/false);
}

TEST_P(ConformanceTest, KilledParentEndsOrphansAWorkerThreadStarted) {
  MPROC_REQUIRE_HOOK(is_pid_alive);
  MPROC_REQUIRE_HOOK(kill_pid);
  CheckKilledParentTakesItsOrphans(ctx(), GetParam(),
                                   /*from_worker_thread=*/true);
}

TEST_P(ConformanceTest, AThreadEndingDoesNotEndTheChildrenItStarted) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> ready, manager.List<int64_t>());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> go, manager.List<int64_t>());
  // A daemon: kill_on_parent_death is on.
  Process child = ctx().NewProcess(
      Target(&workloads::ReadyThenWaitForGo, ready, go), {.daemon = true});
  std::optional<int64_t> worker_tid;
  absl::Status started;
  bool child_ready = false;
  std::thread worker([&] {
    if (GetParam().os_thread_id) worker_tid = GetParam().os_thread_id();
    started = child.Start();
    // The thread ends only after the child has set up its watch on its
    // parent, so a watch tied to this thread would fire.
    child_ready = started.ok() && testing::WaitForListSize(ready, 1, kDeadline);
  });
  worker.join();
  ASSERT_OK(started);
  ASSERT_TRUE(child_ready);
  // Once the OS has let go of the thread, a watch tied to it has fired.
  if (worker_tid.has_value() && GetParam().is_os_thread_alive) {
    ASSERT_TRUE(testing::WaitUntil(
        [&] { return !GetParam().is_os_thread_alive(*worker_tid); },
        kDeadline));
  }
  EXPECT_TRUE(child.IsAlive());
  ASSERT_OK(go.Append(1));
  ASSERT_OK(go.Size().status());  // a synchronous call sends the append
  ASSERT_OK(child.Join(kDeadline));
  EXPECT_EQ(child.exitcode(), 0) << "the worker thread's end ended its child";
  ASSERT_OK(manager.Shutdown());
}

}  // namespace
}  // namespace mproc::conformance
