// The four behaviours of the chapter (seed/multiprocessing-chapter.md), on
// every backend.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/manager.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/regex_matchers.h"
#include "tests/testing/status_matchers.h"
#include "workloads/workloads.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::internal::CaptureStderr;
using ::testing::internal::CaptureStdout;
using ::testing::internal::GetCapturedStderr;
using ::testing::internal::GetCapturedStdout;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// naming_processes: an explicit and a default name, seen by parent and child;
// two children fill their own 1000-element lists concurrently.
TEST_P(ConformanceTest, NamingExplicitAndDefaultNamesSeenByParentAndChild) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> seen1,
                       manager.List<std::string>());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> seen2,
                       manager.List<std::string>());
  Process named = ctx().NewProcess(Target(&workloads::ReportIdentity, seen1),
                                   {.name = "do_something process 1"});
  Process unnamed = ctx().NewProcess(Target(&workloads::ReportIdentity, seen2));
  EXPECT_EQ(named.name(), "do_something process 1");
  EXPECT_THAT(unnamed.name(), ::mproc::testing::MatchesRegex("Process-[0-9]+"));
  ASSERT_OK(named.Start());
  ASSERT_OK(unnamed.Start());
  ASSERT_OK(named.Join(kDeadline));
  ASSERT_OK(unnamed.Join(kDeadline));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> identity1, seen1.Snapshot());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> identity2, seen2.Snapshot());
  ASSERT_EQ(identity1.size(), 4u);
  ASSERT_EQ(identity2.size(), 4u);
  EXPECT_EQ(identity1[0], "do_something process 1");
  EXPECT_EQ(identity2[0], unnamed.name());
  EXPECT_EQ(identity1[1], absl::StrCat(*named.pid()));
  EXPECT_EQ(identity2[1], absl::StrCat(*unnamed.pid()));
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, NamingTwoChildrenFillTheirListsConcurrently) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<double> out1, manager.List<double>());
  ASSERT_OK_AND_ASSIGN(ListProxy<double> out2, manager.List<double>());
  Process p1 = ctx().NewProcess(Target(&workloads::DoSomething, 1000, out1),
                                {.name = "do_something process 1"});
  Process p2 = ctx().NewProcess(Target(&workloads::DoSomething, 1000, out2));
  ASSERT_OK(p1.Start());
  ASSERT_OK(p2.Start());
  ASSERT_OK(p1.Join(kDeadline));
  ASSERT_OK(p2.Join(kDeadline));
  EXPECT_EQ(p1.exitcode(), 0);
  EXPECT_EQ(p2.exitcode(), 0);
  EXPECT_THAT(out1.Size(), ::mproc::testing::IsOk());
  EXPECT_EQ(*out1.Size(), 1000);
  EXPECT_EQ(*out2.Size(), 1000);
  ASSERT_OK_AND_ASSIGN(std::vector<double> values, out1.Snapshot());
  for (double v : values) {
    EXPECT_GE(v, 0.0);
    EXPECT_LT(v, 1.0);
  }
  ASSERT_OK(manager.Shutdown());
}

// spawning_processes: six start+join rounds; child i reports i*1000 results,
// in order.
TEST_P(ConformanceTest, SpawningInALoopReportsResultsInOrder) {
  CaptureStdout();
  for (int i = 0; i < 6; ++i) {
    Process p = RunToEnd(Target(&workloads::SpawnLoopItem, i));
    EXPECT_EQ(p.exitcode(), 0) << "child " << i;
  }
  std::vector<std::string> expected;
  for (int i = 0; i < 6; ++i) {
    expected.push_back(
        absl::StrCat("calling do_something from process no: ", i));
    expected.push_back(
        absl::StrCat("Process ", i, " finished with ", i * 1000, " results."));
  }
  EXPECT_EQ(Lines(GetCapturedStdout()), expected);
}

TEST_P(ConformanceTest, SpawningInALoopGivesEachChildItsOwnWork) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  std::vector<ListProxy<double>> lists;
  for (int i = 0; i < 6; ++i) {
    ASSERT_OK_AND_ASSIGN(ListProxy<double> list, manager.List<double>());
    Process p = RunToEnd(Target(&workloads::DoSomething, i * 1000, list));
    EXPECT_EQ(p.exitcode(), 0);
    lists.push_back(list);
  }
  for (int i = 0; i < 6; ++i) EXPECT_EQ(*lists[i].Size(), i * 1000);
  ASSERT_OK(manager.Shutdown());
}

// killing_processes: alive false before start, true after; terminate + join
// gives -15 for a running child.
TEST_P(ConformanceTest, KillingTerminatesARunningChild) {
  Process p = ctx().NewProcess(Target(&workloads::RunUntilTerminated));
  EXPECT_FALSE(p.IsAlive());
  ASSERT_OK(p.Start());
  EXPECT_TRUE(p.IsAlive());
  ASSERT_OK(p.Terminate());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_FALSE(p.IsAlive());
  EXPECT_EQ(p.exitcode(), -15);
}

TEST_P(ConformanceTest, KillingAFinishedChildKeepsExitCodeZero) {
  CaptureStdout();
  Process p =
      ctx().NewProcess(Target(&workloads::DoSomethingWithOwnManager, 10, 0));
  EXPECT_FALSE(p.IsAlive());
  ASSERT_OK(p.Start());
  EXPECT_TRUE(p.IsAlive() || p.exitcode().has_value());
  ASSERT_OK(p.Join(kDeadline));
  ASSERT_OK(p.Terminate());
  EXPECT_FALSE(p.IsAlive());
  ASSERT_OK(p.Join());
  EXPECT_FALSE(p.IsAlive());
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_THAT(
      Lines(GetCapturedStdout()),
      ElementsAre("Starting function", "Finished function with 10 results."));
}

// run_background_processes: the daemon's Manager start fails with the
// CPython message; the non-daemon finishes.
TEST_P(ConformanceTest, DaemonCannotStartAManager) {
  CaptureStderr();
  Process daemon = RunToEnd(Target(&workloads::BackgroundWork, 1000),
                            {.name = "background_process", .daemon = true});
  const std::string err = GetCapturedStderr();
  EXPECT_EQ(daemon.exitcode(), 1);
  EXPECT_THAT(err, HasSubstr("Process background_process:\n"
                             "FAILED_PRECONDITION: daemonic processes are not "
                             "allowed to have children"));
}

TEST_P(ConformanceTest, NonDaemonRunsItsManagerAndExitsZero) {
  CaptureStdout();
  Process worker = RunToEnd(Target(&workloads::BackgroundWork, 1000),
                            {.name = "NO_background_process", .daemon = false});
  EXPECT_THAT(Lines(GetCapturedStdout()),
              ElementsAre("Exiting NO_background_process"));
  EXPECT_EQ(worker.exitcode(), 0);
}

TEST_P(ConformanceTest, DaemonCannotStartAProcess) {
  CaptureStderr();
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> out, manager.List<std::string>());
  Process daemon = RunToEnd(Target(&workloads::SpawnGrandchild, out),
                            {.name = "daemon", .daemon = true});
  EXPECT_EQ(daemon.exitcode(), 1);
  EXPECT_THAT(GetCapturedStderr(),
              HasSubstr("daemonic processes are not allowed to have children"));
  EXPECT_EQ(*out.Size(), 0);
  ASSERT_OK(manager.Shutdown());
}

}  // namespace
}  // namespace mproc::conformance
