// The exit-time rules: how a child's exit code follows from its target and
// its Manager writes (docs/design.md §4), Process::Stop and mproc::Exit.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/current_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/workloads.h"

namespace mproc::conformance {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

int Occurrences(absl::string_view text, absl::string_view part) {
  int count = 0;
  for (size_t at = text.find(part); at != absl::string_view::npos;
       at = text.find(part, at + part.size())) {
    ++count;
  }
  return count;
}

constexpr absl::Duration kWait = absl::Seconds(30);

// Runs `target(data, ready, go)` in a child named `name` whose `data` lives
// in a Manager that is shut down while the child waits between `ready` and
// `go`. Returns the child's exit code and its stderr.
template <typename Workload>
void RunWithManagerLostMidway(const Context& ctx, Workload workload,
                              const std::string& name, std::optional<int>& code,
                              std::string& err) {
  ASSERT_OK_AND_ASSIGN(Manager doomed, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(Manager signals, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> data, doomed.List<int64_t>());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> ready, signals.List<int64_t>());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> go, signals.List<int64_t>());
  CaptureStderr();
  Process p = ctx.NewProcess(Target(workload, data, ready, go), {.name = name});
  absl::Status started = p.Start();
  bool was_ready = started.ok() && testing::WaitUntil(
                                       [&] {
                                         absl::StatusOr<int64_t> size =
                                             ready.Size();
                                         return !size.ok() || *size > 0;
                                       },
                                       kWait);
  const absl::Status shut_down = doomed.Shutdown();
  absl::Status sent = go.Append(1);
  sent.Update(go.Size().status());  // sends the append
  const absl::Status joined = started.ok() ? p.Join(kWait) : started;
  err = GetCapturedStderr();
  ASSERT_OK(started);
  ASSERT_TRUE(was_ready);
  ASSERT_OK(shut_down);
  ASSERT_OK(sent);
  ASSERT_OK(joined);
  code = p.exitcode();
}

TEST_P(ConformanceTest, HandledManagerLossKeepsTheTargetsExitCode) {
  std::optional<int> code;
  std::string err;
  ASSERT_NO_FATAL_FAILURE(RunWithManagerLostMidway(
      ctx(), &workloads::HandleLostManager, "handler", code, err));
  EXPECT_EQ(code, 0) << err;
  // The target saw and handled the error: nothing to report.
  EXPECT_THAT(err, Not(HasSubstr("Process handler:"))) << err;
  EXPECT_LE(Occurrences(err, "lost the connection"), 1) << err;
}

TEST_P(ConformanceTest, LostPipelinedWritesExitOneAndAreReportedOnce) {
  std::optional<int> code;
  std::string err;
  ASSERT_NO_FATAL_FAILURE(RunWithManagerLostMidway(
      ctx(), &workloads::LosePipelinedWrite, "loser", code, err));
  EXPECT_EQ(code, 1) << err;
  EXPECT_EQ(Occurrences(err, "Process loser:"), 1) << err;
  EXPECT_EQ(Occurrences(err, "lost the connection"), 1) << err;
}

TEST_P(ConformanceTest, StopEndsARunningChildAsTerminated) {
  Process p = ctx().NewProcess(Target(&workloads::RunUntilTerminated));
  ASSERT_OK(p.Start());
  ASSERT_OK(p.Stop(kDeadline));
  EXPECT_FALSE(p.IsAlive());
  EXPECT_EQ(p.exitcode(), -15);
  EXPECT_THAT(ActiveChildren(), ::testing::IsEmpty());
}

TEST_P(ConformanceTest, StopOfAnEndedChildKeepsItsExitCode) {
  Process p = RunToEnd(Target(&workloads::ExitWith, 3));
  ASSERT_OK(p.Stop(kDeadline));
  EXPECT_EQ(p.exitcode(), 3);
}

TEST_P(ConformanceTest, StopBeforeStartOrWithANegativeGraceFails) {
  Process p = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  EXPECT_THAT(p.Stop(kDeadline),
              testing::StatusIs(
                  absl::StatusCode::kFailedPrecondition,
                  ::testing::StartsWith("can only stop a started process")));
  ASSERT_OK(p.Start());
  EXPECT_THAT(p.Stop(absl::Seconds(-1)),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(ConformanceTest, ExitEndsTheChildWithItsCode) {
  for (int code : {0, 7, 255}) {
    ::testing::internal::CaptureStdout();
    Process p = RunToEnd(Target(&workloads::ExitEarly, code));
    const std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(p.exitcode(), code);
    EXPECT_EQ(out, "before exit\n");  // nothing after Exit ran
  }
}

TEST_P(ConformanceTest, ExitRunsTheExitTimeRules) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> out, manager.List<int64_t>());
  Process p = RunToEnd(Target(&workloads::AppendThenExit, 42, 5, out));
  EXPECT_EQ(p.exitcode(), 5);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> items, out.Snapshot());
  EXPECT_THAT(items, ::testing::ElementsAre(42));
}

}  // namespace
}  // namespace mproc::conformance
