// Every row of docs/design.md §4's lifecycle table, on every backend.
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/current_process.h"
#include "api/manager.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/regex_matchers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/workloads.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::IsOk;
using ::mproc::testing::MatchesRegex;
using ::mproc::testing::StartsWithPhrase;
using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr auto kFailedPrecondition = absl::StatusCode::kFailedPrecondition;
constexpr auto kInvalidArgument = absl::StatusCode::kInvalidArgument;

// The N of a default name "Process-N" (or "Manager-N").
int NameNumber(const std::string& name) {
  int n = -1;
  EXPECT_TRUE(absl::SimpleAtoi(name.substr(name.rfind('-') + 1), &n)) << name;
  return n;
}

TEST_P(ConformanceTest, StartTwiceFails) {
  Process p = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  ASSERT_OK(p.Start());
  EXPECT_THAT(p.Start(),
              StatusIs(kFailedPrecondition,
                       StartsWithPhrase("cannot start a process twice")));
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_THAT(p.Start(),
              StatusIs(kFailedPrecondition,
                       StartsWithPhrase("cannot start a process twice")));
}

TEST_P(ConformanceTest, JoinTerminateKillBeforeStartFail) {
  Process p = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  EXPECT_THAT(p.Join(),
              StatusIs(kFailedPrecondition,
                       StartsWithPhrase("can only join a started process")));
  EXPECT_THAT(
      p.Terminate(),
      StatusIs(kFailedPrecondition,
               StartsWithPhrase("can only terminate a started process")));
  EXPECT_THAT(p.Kill(),
              StatusIs(kFailedPrecondition,
                       StartsWithPhrase("can only kill a started process")));
  EXPECT_FALSE(p.IsAlive());
  EXPECT_EQ(p.exitcode(), std::nullopt);
  EXPECT_EQ(p.pid(), std::nullopt);
}

TEST_P(ConformanceTest, OnlyTheParentMayJoinTerminateOrKill) {
  // A process holding its own Process object (possible where a child shares
  // or copies its parent's memory) may not join, terminate or kill itself.
  // The check runs in a child of the context under test, which starts the
  // self-controlling grandchild through its backend's memory-sharing start
  // method (posix:spawn children use posix:fork, for instance).
  bool shares_memory = false;
  for (const StartMethod& method : ctx().backend().start_methods()) {
    shares_memory = shares_memory || method.runs_closures;
  }
  if (!shares_memory) {
    GTEST_SKIP() << ctx().backend().name()
                 << " has no start method that shares memory: no process "
                    "can hold a Process object it did not start";
  }
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> out, manager.List<std::string>());
  Process child = RunToEnd(Target(&workloads::ReportSelfControlErrors, out));
  EXPECT_EQ(child.exitcode(), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> messages, out.Snapshot());
  EXPECT_THAT(messages,
              ::testing::ElementsAre(
                  StartsWithPhrase("can only join a child process"),
                  StartsWithPhrase("can only terminate a child process"),
                  StartsWithPhrase("can only kill a child process")));
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, SetDaemonAfterStartFails) {
  Process p = ctx().NewProcess(Target(&workloads::ExitWithDaemonFlag));
  ASSERT_OK(p.set_daemon(true));
  ASSERT_OK(p.set_daemon(false));
  ASSERT_OK(p.Start());
  EXPECT_THAT(p.set_daemon(true),
              StatusIs(kFailedPrecondition,
                       StartsWithPhrase("process has already started")));
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_FALSE(p.daemon());
  EXPECT_EQ(p.exitcode(), 10);
}

TEST_P(ConformanceTest, JoinTimeoutExpiringIsNotAnError) {
  Process p = ctx().NewProcess(Target(&workloads::RunUntilTerminated));
  ASSERT_OK(p.Start());
  EXPECT_OK(p.Join(absl::Milliseconds(10)));
  EXPECT_OK(p.Join(absl::ZeroDuration()));
  EXPECT_TRUE(p.IsAlive());
  EXPECT_EQ(p.exitcode(), std::nullopt);
  ASSERT_OK(p.Kill());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), -9);
}

TEST_P(ConformanceTest, NegativeJoinTimeoutIsInvalid) {
  Process p = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  ASSERT_OK(p.Start());
  EXPECT_THAT(p.Join(absl::Milliseconds(-1)),
              StatusIs(kInvalidArgument, HasSubstr("negative")));
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(ConformanceTest, TerminateOrKillOfAnEndedChildIsANoOp) {
  Process p = RunToEnd(Target(&workloads::ExitWith, 7));
  EXPECT_OK(p.Terminate());
  EXPECT_OK(p.Kill());
  EXPECT_OK(p.Join());
  EXPECT_EQ(p.exitcode(), 7);
}

TEST_P(ConformanceTest, CloseWhileRunningFailsAndAfterEndSucceeds) {
  Process p = ctx().NewProcess(Target(&workloads::RunUntilTerminated));
  ASSERT_OK(p.Start());
  EXPECT_THAT(
      p.Close(),
      StatusIs(kFailedPrecondition,
               StartsWithPhrase(
                   "Cannot close a process while it is still running")));
  ASSERT_OK(p.Terminate());
  ASSERT_OK(p.Join(kDeadline));
  ASSERT_OK(p.Close());
  EXPECT_OK(p.Close());  // idempotent
  EXPECT_THAT(p.Join(), StatusIs(kFailedPrecondition,
                                 StartsWithPhrase("process object is closed")));
  EXPECT_THAT(p.Start(),
              StatusIs(kFailedPrecondition,
                       StartsWithPhrase("process object is closed")));
  EXPECT_THAT(p.ToString(), HasSubstr(" closed>"));
}

TEST_P(ConformanceTest, CloseBeforeStartThenStartFails) {
  Process p = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  ASSERT_OK(p.Close());
  EXPECT_THAT(p.Start(),
              StatusIs(kFailedPrecondition,
                       StartsWithPhrase("process object is closed")));
}

TEST_P(ConformanceTest, BadNamesAreInvalidArguments) {
  Process p = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  EXPECT_THAT(p.set_name(""), StatusIs(kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(p.set_name(std::string(4096, 'x')),
              StatusIs(kInvalidArgument, HasSubstr("1024")));
  EXPECT_THAT(p.set_name(std::string("a\0b", 3)),
              StatusIs(kInvalidArgument, HasSubstr("NUL")));
  EXPECT_THAT(p.set_name("\xff\xfe"),
              StatusIs(kInvalidArgument, HasSubstr("UTF-8")));
  // A bad name given at construction is reported by Start; nothing starts.
  Process oversized = ctx().NewProcess(Target(&workloads::ExitWith, 0),
                                       {.name = std::string(4096, 'x')});
  EXPECT_THAT(oversized.Start(), StatusIs(kInvalidArgument, HasSubstr("1024")));
  EXPECT_FALSE(oversized.IsAlive());
  Process empty =
      ctx().NewProcess(Target(&workloads::ExitWith, 0), {.name = ""});
  EXPECT_THAT(empty.Start(), StatusIs(kInvalidArgument));
}

TEST_P(ConformanceTest, LongestAndUnicodeNamesReachTheChild) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  for (const std::string& name :
       {std::string(1024, 'n'), std::string("процесс 1 — ✓ 🚀")}) {
    ASSERT_OK_AND_ASSIGN(ListProxy<std::string> out,
                         manager.List<std::string>());
    Process p =
        RunToEnd(Target(&workloads::ReportIdentity, out), {.name = name});
    EXPECT_EQ(p.name(), name);
    ASSERT_OK_AND_ASSIGN(std::string seen, out.Get(0));
    EXPECT_EQ(seen, name);
  }
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, EmptyTargetIsInvalid) {
  Process p = ctx().NewProcess(TargetCall());
  EXPECT_THAT(p.Start(), StatusIs(kInvalidArgument, HasSubstr("no target")));
}

TEST_P(ConformanceTest, ClosuresRunWhereTheStartMethodSharesMemory) {
  auto ran = std::make_shared<std::atomic<bool>>(false);
  Process p = ctx().NewProcess(Target([ran] {
    ran->store(true);
    return 5;
  }));
  if (ctx().start_method().runs_closures) {
    ASSERT_OK(p.Start());
    ASSERT_OK(p.Join(kDeadline));
    EXPECT_EQ(p.exitcode(), 5);
  } else {
    EXPECT_THAT(p.Start(),
                StatusIs(kInvalidArgument, HasSubstr("MPROC_REGISTER_TARGET")));
    EXPECT_FALSE(p.IsAlive());
  }
}

TEST_P(ConformanceTest, DefaultNamesCountEveryProcessCreated) {
  Process a = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  Process named =
      ctx().NewProcess(Target(&workloads::ExitWith, 0), {.name = "x"});
  Process b = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  EXPECT_THAT(a.name(), MatchesRegex("Process-[0-9]+"));
  EXPECT_EQ(NameNumber(b.name()), NameNumber(a.name()) + 2);
}

TEST_P(ConformanceTest, ManagerServersAdvanceTheNameCounter) {
  Process a = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  Process b = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  EXPECT_EQ(NameNumber(b.name()), NameNumber(a.name()) + 2);
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, NestedDefaultNamesCarryTheParentsIdentity) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> out, manager.List<std::string>());
  Process child = RunToEnd(Target(&workloads::SpawnGrandchild, out));
  EXPECT_EQ(child.exitcode(), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> seen, out.Snapshot());
  ASSERT_EQ(seen.size(), 4u);
  // The child's first Process is its Process 1.
  EXPECT_EQ(seen[0], absl::StrCat(child.name(), ":1"));
  EXPECT_EQ(seen[2], child.name());
  EXPECT_EQ(seen[3], absl::StrCat(*child.pid()));
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, MovedFromProcessFailsCleanly) {
  Process p = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  Process q = std::move(p);
  EXPECT_THAT(p.Start(), StatusIs(kFailedPrecondition,
                                  HasSubstr("moved-from")));  // NOLINT
  EXPECT_THAT(p.Join(), StatusIs(kFailedPrecondition));       // NOLINT
  EXPECT_FALSE(p.IsAlive());                                  // NOLINT
  ASSERT_OK(q.Start());
  ASSERT_OK(q.Join(kDeadline));
  EXPECT_EQ(q.exitcode(), 0);
}

TEST_P(ConformanceTest, DestroyedUnjoinedProcessIsReapedByActiveChildren) {
  {
    Process p = ctx().NewProcess(Target(&workloads::SleepMillis, 20));
    ASSERT_OK(p.Start());
  }  // destroyed while running: the child runs on
  EXPECT_TRUE(mproc::testing::WaitUntil([] { return ActiveChildren().empty(); },
                                        kDeadline));
}

TEST_P(ConformanceTest, ReprFollowsTheLifecycle) {
  Process p = ctx().NewProcess(Target(&workloads::RunUntilTerminated),
                               {.daemon = true});
  const std::string parent = absl::StrCat(CurrentProcess().pid);
  EXPECT_THAT(p.ToString(),
              MatchesRegex("<Process name='Process-[0-9]+' parent=" + parent +
                           " initial daemon>"));
  ASSERT_OK(p.Start());
  const std::string pid = absl::StrCat(*p.pid());
  EXPECT_THAT(p.ToString(),
              MatchesRegex("<Process name='Process-[0-9]+' pid=" + pid +
                           " parent=" + parent + " started daemon>"));
  ASSERT_OK(p.Terminate());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_THAT(p.ToString(), MatchesRegex("<Process name='Process-[0-9]+' pid=" +
                                         pid + " parent=" + parent +
                                         " stopped exitcode=-SIGTERM daemon>"));
  std::ostringstream streamed;
  streamed << p;
  EXPECT_EQ(streamed.str(), p.ToString());
}

TEST_P(ConformanceTest, ChildExitRulesTerminateDaemonGrandchildren) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> out, manager.List<std::string>());
  Process child =
      RunToEnd(Target(&workloads::StartDaemonGrandchildAndReturn, out));
  EXPECT_EQ(child.exitcode(), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, out.Snapshot());
  EXPECT_THAT(names, ::testing::ElementsAre(absl::StrCat(child.name(), ":1")));
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ChildExitRulesJoinNonDaemonGrandchildren) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> out, manager.List<int64_t>());
  Process child =
      RunToEnd(Target(&workloads::StartGrandchildAndReturn, 2000, out));
  EXPECT_EQ(child.exitcode(), 0);
  // The grandchild was joined (and flushed) before the child ended.
  EXPECT_EQ(*out.Size(), 2000);
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, UnknownContextNameListsTheAvailableOnes) {
  absl::StatusOr<Context> unknown = GetContext("no-such-backend");
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound,
                                HasSubstr(GetParam().context)));
  absl::StatusOr<Context> bad_method =
      GetContext(absl::StrCat(ctx().backend().name(), ":no-such-method"));
  EXPECT_THAT(bad_method, StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace mproc::conformance
