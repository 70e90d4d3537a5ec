// POSIX only: children with kill_on_parent_death (daemons, Manager servers)
// end when their parent is SIGKILLed, whichever thread started them, and a
// worker thread's exit does not end the children it started.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/manager.h"
#include "api/process.h"
#include "gtest/gtest.h"
#include "tests/backends/posix_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/workloads.h"

namespace mproc {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(30);
// docs/design.md §4's goal is 1 s; the test allows ten times that.
constexpr absl::Duration kContainmentDeadline = absl::Seconds(10);

// Blocks the calling process until it is killed.
[[noreturn]] void WaitToBeKilled() {
  while (true) (void)poll(nullptr, 0, -1);
}

// A "parent" process: starts a daemon child and a Manager (from this thread,
// or from a worker thread that then exits), appends their pids to `pids` and
// the Manager's address to `addresses`, then waits to be killed.
absl::Status StartOrphansAndWait(bool from_worker_thread,
                                 ListProxy<int64_t> pids,
                                 ListProxy<std::string> addresses) {
  absl::StatusOr<Context> context = GetContext();
  if (!context.ok()) return context.status();
  std::optional<Process> daemon;
  std::optional<Manager> manager;
  absl::Status started;
  auto start = [&] {
    daemon.emplace(context->NewProcess(Target(&workloads::RunUntilTerminated),
                                       {.daemon = true}));
    started = daemon->Start();
    if (!started.ok()) return;
    absl::StatusOr<Manager> made = context->StartManager();
    if (!made.ok()) {
      started = made.status();
      return;
    }
    manager.emplace(*std::move(made));
  };
  if (from_worker_thread) {
    std::thread(start).join();
  } else {
    start();
  }
  if (!started.ok()) return started;
  if (absl::Status s = pids.Append(*daemon->pid()); !s.ok()) return s;
  if (absl::Status s = pids.Append(*manager->pid()); !s.ok()) return s;
  if (absl::Status s = addresses.Append(manager->address()); !s.ok()) return s;
  if (absl::Status s = pids.Size().status(); !s.ok()) return s;  // sent
  WaitToBeKilled();
}
MPROC_REGISTER_TARGET(StartOrphansAndWait);

struct ContainmentCase {
  std::string context;
  bool from_worker_thread;
};

std::string CaseName(const ::testing::TestParamInfo<ContainmentCase>& info) {
  return absl::StrCat(
      testing::StartMethodName(info.param.context),
      info.param.from_worker_thread ? "FromWorkerThread" : "FromMainThread");
}

class PosixContainmentTest : public ::testing::TestWithParam<ContainmentCase> {
};

TEST_P(PosixContainmentTest, ParentSigkillEndsDaemonChildAndManager) {
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext(GetParam().context));
  ASSERT_OK_AND_ASSIGN(Manager collector, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> pids, collector.List<int64_t>());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> addresses,
                       collector.List<std::string>());
  Process parent =
      ctx.NewProcess(Target(&StartOrphansAndWait, GetParam().from_worker_thread,
                            pids, addresses),
                     {.name = "doomed parent"});
  ASSERT_OK(parent.Start());
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        absl::StatusOr<int64_t> size = pids.Size();
        return !size.ok() || *size >= 2;
      },
      kDeadline));
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> orphans, pids.Snapshot());
  ASSERT_EQ(orphans.size(), 2u);

  // Watch both while they are alive and still the parent's children (or
  // grandchildren through the fork server, watched too).
  std::vector<int> watches;
  int server_watch = -1;
  for (int64_t pid : orphans) {
    const int pidfd = testing::OpenPidfdFor(pid);
    ASSERT_GE(pidfd, 0) << "pidfd_open(" << pid
                        << "): " << std::strerror(errno);
    watches.push_back(pidfd);
    std::optional<int64_t> parent_pid = testing::ParentPidOf(pid);
    if (GetParam().context == "posix:forkserver") {
      // The fork server's child; the server is the parent's.
      ASSERT_TRUE(parent_pid.has_value());
      ASSERT_EQ(testing::ParentPidOf(*parent_pid), parent.pid());
      if (server_watch < 0) {
        server_watch = testing::OpenPidfdFor(*parent_pid);
        ASSERT_GE(server_watch, 0) << std::strerror(errno);
        ASSERT_EQ(testing::ParentPidOf(*parent_pid), parent.pid());
      }
    } else {
      ASSERT_EQ(parent_pid, parent.pid());
    }
  }

  ASSERT_OK(parent.Kill());
  ASSERT_OK(parent.Join(kDeadline));
  EXPECT_EQ(parent.exitcode(), -9);
  EXPECT_TRUE(testing::WaitForProcessEnd(watches[0], kContainmentDeadline))
      << "the daemon child outlived its killed parent";
  EXPECT_TRUE(testing::WaitForProcessEnd(watches[1], kContainmentDeadline))
      << "the Manager server outlived its killed parent";
  if (server_watch >= 0) {
    EXPECT_TRUE(testing::WaitForProcessEnd(server_watch, kContainmentDeadline))
        << "the fork server outlived its killed parent";
    (void)syscall(SYS_pidfd_send_signal, server_watch, SIGKILL, nullptr, 0);
    close(server_watch);
  }
  for (int pidfd : watches) {
    // Leave no orphan behind should the test have failed.
    (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    close(pidfd);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> killed, addresses.Snapshot());
  ASSERT_EQ(killed.size(), 1u);
  // An abstract address went with its server; a socket directory (the
  // portable path) is removed only by its creator, and it was killed.
  if (!absl::StartsWith(killed[0], "unix:@")) {
    const std::filesystem::path socket(killed[0].substr(sizeof("unix:") - 1));
    ASSERT_EQ(socket.filename(), "manager.sock");
    std::filesystem::remove_all(socket.parent_path());
  }
  ASSERT_OK(collector.Shutdown());
  EXPECT_TRUE(ActiveChildren().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Posix, PosixContainmentTest,
    ::testing::Values(ContainmentCase{"posix:fork", false},
                      ContainmentCase{"posix:fork", true},
                      ContainmentCase{"posix:spawn", false},
                      ContainmentCase{"posix:spawn", true},
                      ContainmentCase{"posix:forkserver", false},
                      ContainmentCase{"posix:forkserver", true}),
    CaseName);

class PosixWorkerThreadTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PosixWorkerThreadTest, WorkerThreadExitDoesNotEndItsChildren) {
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext(GetParam()));
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> ready, manager.List<int64_t>());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> go, manager.List<int64_t>());
  // A daemon: kill_on_parent_death is on.
  Process child = ctx.NewProcess(
      Target(&workloads::ReadyThenWaitForGo, ready, go), {.daemon = true});
  pid_t worker_tid = 0;
  absl::Status started;
  bool child_ready = false;
  std::thread worker([&] {
    worker_tid = static_cast<pid_t>(syscall(SYS_gettid));
    started = child.Start();
    // The thread ends only after the child has set up its watch, so a
    // PR_SET_PDEATHSIG would be tied to this thread.
    child_ready = started.ok() && testing::WaitUntil(
                                      [&] {
                                        absl::StatusOr<int64_t> n =
                                            ready.Size();
                                        return !n.ok() || *n > 0;
                                      },
                                      kDeadline);
  });
  worker.join();
  ASSERT_OK(started);
  ASSERT_TRUE(child_ready);
  // Once the kernel has let go of the thread, a PR_SET_PDEATHSIG tied to it
  // would have been delivered.
  const std::string task = absl::StrCat("/proc/self/task/", worker_tid);
  ASSERT_TRUE(testing::WaitUntil([&] { return !std::filesystem::exists(task); },
                                 kDeadline));
  EXPECT_TRUE(child.IsAlive());
  ASSERT_OK(go.Append(1));
  ASSERT_OK(go.Size().status());  // a synchronous call sends the append
  ASSERT_OK(child.Join(kDeadline));
  EXPECT_EQ(child.exitcode(), 0) << "the worker thread's exit ended its child";
  ASSERT_OK(manager.Shutdown());
}

INSTANTIATE_TEST_SUITE_P(Posix, PosixWorkerThreadTest,
                         ::testing::Values("posix:fork", "posix:spawn",
                                           "posix:forkserver"),
                         testing::StartMethodTestName);

}  // namespace
}  // namespace mproc
