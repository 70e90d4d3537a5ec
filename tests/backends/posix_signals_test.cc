// POSIX only: a child's signal state does not depend on its parent's
// (docs/design.md §4), and the exit-time rules end even when a daemon child
// ignores SIGTERM.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/context.h"
#include "api/exit.h"
#include "api/internal/process_state.h"
#include "api/manager.h"
#include "api/process.h"
#include "gsl/util"
#include "gtest/gtest.h"
#include "tests/backends/posix_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/workloads.h"

namespace mproc {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(30);

// How the test process treats SIGTERM while it starts the child.
enum class ParentSigterm { kIgnored, kBlocked, kIgnoredAndBlocked };

struct SignalCase {
  std::string context;
  ParentSigterm parent;
};

std::string SignalCaseName(const ::testing::TestParamInfo<SignalCase>& info) {
  const char* parent = info.param.parent == ParentSigterm::kIgnored ? "Ignored"
                       : info.param.parent == ParentSigterm::kBlocked
                           ? "Blocked"
                           : "IgnoredAndBlocked";
  return absl::StrCat(testing::StartMethodName(info.param.context), parent);
}

void PrintTo(const SignalCase& c, std::ostream* os) {
  *os << c.context << " " << static_cast<int>(c.parent);
}

class PosixChildSignalStateTest : public ::testing::TestWithParam<SignalCase> {
};

TEST_P(PosixChildSignalStateTest, TerminateEndsAChildWhateverTheParentsState) {
  const ParentSigterm parent = GetParam().parent;
  struct sigaction old_action {};
  sigset_t old_mask;
  sigemptyset(&old_mask);
  if (parent != ParentSigterm::kBlocked) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ASSERT_EQ(sigaction(SIGTERM, &ignore, &old_action), 0);
  }
  if (parent != ParentSigterm::kIgnored) {
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, &old_mask), 0);
  }
  const auto restore = gsl::finally([&] {
    if (parent != ParentSigterm::kIgnored) {
      (void)pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    }
    if (parent != ParentSigterm::kBlocked) {
      (void)sigaction(SIGTERM, &old_action, nullptr);
    }
  });

  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext(GetParam().context));
  Process p = ctx.NewProcess(Target(&workloads::RunUntilTerminated));
  ASSERT_OK(p.Start());
  ASSERT_OK(p.Terminate());
  ASSERT_OK(p.Join(kDeadline / 3));
  if (p.IsAlive()) {  // SIGTERM had no effect: reap it anyway
    ASSERT_OK(p.Kill());
    ASSERT_OK(p.Join(kDeadline));
  }
  EXPECT_EQ(p.exitcode(), -15);
}

INSTANTIATE_TEST_SUITE_P(
    Parents, PosixChildSignalStateTest,
    ::testing::Values(
        SignalCase{"posix:fork", ParentSigterm::kIgnored},
        SignalCase{"posix:fork", ParentSigterm::kBlocked},
        SignalCase{"posix:fork", ParentSigterm::kIgnoredAndBlocked},
        SignalCase{"posix:spawn", ParentSigterm::kIgnored},
        SignalCase{"posix:spawn", ParentSigterm::kBlocked},
        SignalCase{"posix:spawn", ParentSigterm::kIgnoredAndBlocked},
        SignalCase{"posix:forkserver", ParentSigterm::kIgnored},
        SignalCase{"posix:forkserver", ParentSigterm::kBlocked},
        SignalCase{"posix:forkserver", ParentSigterm::kIgnoredAndBlocked}),
    SignalCaseName);

// Ignores SIGTERM, appends its pid to `pids`, then waits to be killed.
absl::Status IgnoreSigtermAndWait(ListProxy<int64_t> pids) {
  if (signal(SIGTERM, SIG_IGN) == SIG_ERR) {
    return absl::InternalError("signal(SIGTERM, SIG_IGN) failed");
  }
  if (absl::Status s = pids.Append(getpid()); !s.ok()) return s;
  if (absl::Status s = pids.Size().status(); !s.ok()) return s;  // sent
  while (true) (void)poll(nullptr, 0, -1);
}
MPROC_REGISTER_TARGET(IgnoreSigtermAndWait);

// Starts a daemon child that ignores SIGTERM, waits until it does, and
// returns: this process's exit-time rules must still end (with a short
// grace, they kill it).
absl::Status StartStubbornDaemonAndReturn(ListProxy<int64_t> pids) {
  internal::SetExitGrace(absl::Milliseconds(50));
  absl::StatusOr<Context> context = GetContext();
  if (!context.ok()) return context.status();
  Process daemon = context->NewProcess(Target(&IgnoreSigtermAndWait, pids),
                                       {.daemon = true});
  if (absl::Status s = daemon.Start(); !s.ok()) return s;
  while (true) {
    absl::StatusOr<int64_t> size = pids.Size();
    if (!size.ok()) return size.status();
    if (*size > 0) return absl::OkStatus();
    (void)poll(nullptr, 0, 1);  // wait a little between queries
  }
}
MPROC_REGISTER_TARGET(StartStubbornDaemonAndReturn);

class PosixExitRulesTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PosixExitRulesTest, ExitRulesKillADaemonThatIgnoresSigterm) {
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext(GetParam()));
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> pids, manager.List<int64_t>());
  Process parent = ctx.NewProcess(Target(&StartStubbornDaemonAndReturn, pids));
  ASSERT_OK(parent.Start());
  ASSERT_OK(parent.Join(kDeadline));
  const bool hung = parent.IsAlive();
  if (hung) {  // its daemon ends with it (kill_on_parent_death)
    ASSERT_OK(parent.Kill());
    ASSERT_OK(parent.Join(kDeadline));
  }
  EXPECT_FALSE(hung) << "the exit-time rules did not end";
  EXPECT_EQ(parent.exitcode(), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> daemon, pids.Snapshot());
  ASSERT_EQ(daemon.size(), 1u);
  const int pidfd = testing::OpenPidfdFor(daemon[0]);
  if (pidfd >= 0) {
    const bool ended = testing::WaitForProcessEnd(pidfd, kDeadline);
    close(pidfd);
    ADD_FAILURE() << "the daemon outlived its parent's exit (ended later: "
                  << ended << ")";
  } else {
    EXPECT_EQ(errno, ESRCH);
  }
}

TEST_P(PosixExitRulesTest, StopKillsAChildThatIgnoresSigterm) {
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext(GetParam()));
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> pids, manager.List<int64_t>());
  Process p = ctx.NewProcess(Target(&IgnoreSigtermAndWait, pids));
  ASSERT_OK(p.Start());
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        absl::StatusOr<int64_t> size = pids.Size();
        return !size.ok() || *size > 0;
      },
      kDeadline));
  ASSERT_OK(p.Stop(absl::Milliseconds(1)));
  EXPECT_FALSE(p.IsAlive());
  EXPECT_EQ(p.exitcode(), -9);
}

// In the main process (no parent) mproc::Exit is std::exit: the exit code is
// `code` and the main process's exit-time rules run through std::atexit.
TEST(PosixExitTest, ExitInTheMainProcessExitsWithTheCode) {
  EXPECT_EXIT(Exit(9), ::testing::ExitedWithCode(9), "");
}

INSTANTIATE_TEST_SUITE_P(StartMethods, PosixExitRulesTest,
                         ::testing::Values("posix:fork", "posix:spawn",
                                           "posix:forkserver"),
                         testing::StartMethodTestName);

}  // namespace
}  // namespace mproc
