// POSIX only: posix:forkserver's own part of parent-death containment. A
// killed parent's fork server ends with it, and so do the kill_on_parent_death
// children (daemons, Manager servers) the server forked for it, whichever of
// the parent's threads asked. The backend-generic rules (any start method; a
// worker thread's end does not end its children) are in the conformance
// suite: tests/conformance/containment_test.cc.
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
  Process parent = ctx.NewProcess(
      Target(&workloads::StartOrphansThenRunUntilKilled, GetParam().context,
             GetParam().from_worker_thread, pids, addresses),
      {.name = "doomed parent"});
  ASSERT_OK(parent.Start());
  ASSERT_TRUE(testing::WaitForListSize(pids, 2, kDeadline));
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
    ::testing::Values(ContainmentCase{"posix:forkserver", false},
                      ContainmentCase{"posix:forkserver", true}),
    CaseName);

}  // namespace
}  // namespace mproc
