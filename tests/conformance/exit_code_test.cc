// Exit codes, target failures, termination and a child's output.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/manager.h"
#include "gmock/gmock.h"
#include "gsl/util"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/regex_matchers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/workloads.h"

namespace mproc::conformance {
namespace {

using ::testing::HasSubstr;
using ::testing::internal::CaptureStderr;
using ::testing::internal::CaptureStdout;
using ::testing::internal::GetCapturedStderr;
using ::testing::internal::GetCapturedStdout;

TEST_P(ConformanceTest, VoidTargetExitsZero) {
  Process p = RunToEnd(Target(&workloads::SleepMillis, 0));
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(ConformanceTest, IntegerTargetSetsTheExitCode) {
  for (int code : {0, 1, 3, 42, 255}) {
    Process p = RunToEnd(Target(&workloads::ExitWith, code));
    EXPECT_EQ(p.exitcode(), code);
  }
}

TEST_P(ConformanceTest, FailedStatusExitsOneAndPrintsIt) {
  CaptureStderr();
  Process p = RunToEnd(Target(&workloads::FailWith,
                              static_cast<int>(absl::StatusCode::kInternal),
                              std::string("boom")),
                       {.name = "failing"});
  EXPECT_EQ(p.exitcode(), 1);
  EXPECT_THAT(GetCapturedStderr(),
              HasSubstr("Process failing:\nINTERNAL: boom\n"));
}

TEST_P(ConformanceTest, EscapedExceptionExitsOneAndPrintsWhat) {
  CaptureStderr();
  Process p = RunToEnd(Target(&workloads::ThrowError, std::string("it broke")),
                       {.name = "thrower"});
  EXPECT_EQ(p.exitcode(), 1);
  EXPECT_THAT(GetCapturedStderr(), HasSubstr("Process thrower:\nit broke\n"));
}

TEST_P(ConformanceTest, TerminateGivesMinus15AndKillMinus9) {
  Process terminated = ctx().NewProcess(Target(&workloads::RunUntilTerminated));
  Process killed = ctx().NewProcess(Target(&workloads::RunUntilTerminated));
  ASSERT_OK(terminated.Start());
  ASSERT_OK(killed.Start());
  ASSERT_OK(terminated.Terminate());
  ASSERT_OK(killed.Kill());
  ASSERT_OK(terminated.Join(kDeadline));
  ASSERT_OK(killed.Join(kDeadline));
  EXPECT_EQ(terminated.exitcode(), -15);
  EXPECT_EQ(killed.exitcode(), -9);
}

TEST_P(ConformanceTest, TerminateEndsATargetThatSwallowsTheUnwind) {
  Process p = ctx().NewProcess(Target(&workloads::SwallowCancellationOnce));
  ASSERT_OK(p.Start());
  ASSERT_OK(p.Terminate());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), -15);
}

// Children terminated while they wait for a Manager's answer, or have just
// got it: each ends with -15, none hangs (the thread backend once deadlocked
// here when a child that had just been woken by its answer unregistered its
// cancellation wake-up while the parent's request was waking it).
TEST_P(ConformanceTest, TerminateEndsChildrenInTheMiddleOfManagerCalls) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  constexpr int kRounds = 10;
  constexpr int kChildren = 8;
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
    std::vector<Process> children;
    // On a failure, the children must not outlive the test.
    const auto end_children = gsl::finally([&children] {
      for (Process& child : children) {
        if (child.IsAlive()) (void)child.Kill();
        (void)child.Join(kDeadline);
      }
    });
    for (int i = 0; i < kChildren; ++i) {
      children.push_back(ctx().NewProcess(
          Target(&workloads::CallManagerUntilTerminated, list)));
      ASSERT_OK(children.back().Start());
    }
    ASSERT_TRUE(testing::WaitUntil(
        [&] { return list.Size().value_or(-1) == kChildren; }, kDeadline));
    for (Process& child : children) ASSERT_OK(child.Terminate());
    for (Process& child : children) {
      ASSERT_OK(child.Join(kDeadline));
      ASSERT_EQ(child.exitcode(), -15) << child << " in round " << round;
    }
  }
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, TerminateStopsABusyLoop) {
  MPROC_REQUIRE_CAPABILITY(preemptive_termination);
  Process p = ctx().NewProcess(Target(&workloads::BurnCpu, int64_t{1} << 62));
  ASSERT_OK(p.Start());
  ASSERT_OK(p.Terminate());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), -15);
}

TEST_P(ConformanceTest, ChildMemoryIsIsolatedFromTheParent) {
  MPROC_REQUIRE_CAPABILITY(memory_isolation);
  workloads::SetGlobalCounter(1);
  Process p = RunToEnd(Target(&workloads::SetGlobalCounter, 42));
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(workloads::GlobalCounter(), 1);
}

TEST_P(ConformanceTest, ChildStdoutIsFlushedBeforeItEnds) {
  CaptureStdout();
  Process p =
      RunToEnd(Target(&workloads::Print, std::string("hello from a child")));
  EXPECT_EQ(GetCapturedStdout(), "hello from a child\n");
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(ConformanceTest, LinesOfConcurrentChildrenNeverMix) {
  const std::string text(200, 'x');
  CaptureStdout();
  std::vector<Process> children;
  for (int i = 0; i < 4; ++i) {
    children.push_back(
        ctx().NewProcess(Target(&workloads::PrintLines, 200, text),
                         {.name = absl::StrCat("printer", i)}));
    ASSERT_OK(children.back().Start());
  }
  for (Process& child : children) ASSERT_OK(child.Join(kDeadline));
  std::vector<std::string> lines =
      absl::StrSplit(GetCapturedStdout(), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 800u);
  for (const std::string& line : lines) {
    EXPECT_THAT(line,
                ::mproc::testing::MatchesRegex("printer[0-3] [0-9]+ x{200}"));
  }
}

}  // namespace
}  // namespace mproc::conformance
