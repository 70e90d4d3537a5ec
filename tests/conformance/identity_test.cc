// Identity: CurrentProcess, ParentProcess, ActiveChildren, pids, daemon flag.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/current_process.h"
#include "api/manager.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/status_matchers.h"
#include "workloads/workloads.h"

namespace mproc::conformance {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

TEST_P(ConformanceTest, MainProcessIsMainProcessWithoutParent) {
  EXPECT_EQ(CurrentProcess().name, "MainProcess");
  EXPECT_THAT(CurrentProcess().identity, IsEmpty());
  EXPECT_FALSE(CurrentProcess().daemon);
  EXPECT_EQ(ParentProcess(), std::nullopt);
}

TEST_P(ConformanceTest, ChildSeesItsOwnIdentityAndItsParent) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> out, manager.List<std::string>());
  Process p = RunToEnd(Target(&workloads::ReportIdentity, out), {.name = "me"});
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> seen, out.Snapshot());
  EXPECT_THAT(seen, ElementsAre("me", absl::StrCat(*p.pid()), "MainProcess",
                                absl::StrCat(CurrentProcess().pid)));
  EXPECT_NE(*p.pid(), CurrentProcess().pid);
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ChildSeesItsDaemonFlag) {
  Process daemon =
      RunToEnd(Target(&workloads::ExitWithDaemonFlag), {.daemon = true});
  Process plain = RunToEnd(Target(&workloads::ExitWithDaemonFlag));
  EXPECT_EQ(daemon.exitcode(), 20);
  EXPECT_EQ(plain.exitcode(), 10);
}

TEST_P(ConformanceTest, ActiveChildrenListsRunningChildrenOnly) {
  Process a =
      ctx().NewProcess(Target(&workloads::RunUntilTerminated), {.name = "a"});
  Process b =
      ctx().NewProcess(Target(&workloads::RunUntilTerminated), {.name = "b"});
  EXPECT_THAT(ActiveChildren(), IsEmpty());
  ASSERT_OK(a.Start());
  ASSERT_OK(b.Start());
  std::vector<std::string> names;
  std::set<int64_t> pids;
  for (const ProcessInfo& child : ActiveChildren()) {
    names.push_back(child.name);
    pids.insert(child.pid);
  }
  EXPECT_THAT(names, UnorderedElementsAre("a", "b"));
  EXPECT_EQ(pids, (std::set<int64_t>{*a.pid(), *b.pid()}));
  ASSERT_OK(a.Terminate());
  ASSERT_OK(a.Join(kDeadline));
  ASSERT_EQ(ActiveChildren().size(), 1u);
  EXPECT_EQ(ActiveChildren()[0].name, "b");
  ASSERT_OK(b.Terminate());
  ASSERT_OK(b.Join(kDeadline));
  EXPECT_THAT(ActiveChildren(), IsEmpty());
}

TEST_P(ConformanceTest, LiveChildrenHaveDistinctPids) {
  std::vector<Process> children;
  std::set<int64_t> pids;
  for (int i = 0; i < 8; ++i) {
    children.push_back(
        ctx().NewProcess(Target(&workloads::RunUntilTerminated)));
    ASSERT_OK(children.back().Start());
    pids.insert(*children.back().pid());
  }
  EXPECT_EQ(pids.size(), 8u);
  EXPECT_EQ(pids.count(CurrentProcess().pid), 0u);
  for (Process& child : children) ASSERT_OK(child.Kill());
  for (Process& child : children) {
    ASSERT_OK(child.Join(kDeadline));
    EXPECT_EQ(child.exitcode(), -9);
  }
}

TEST_P(ConformanceTest, PidIsKeptAfterTheChildEnds) {
  Process p = ctx().NewProcess(Target(&workloads::ExitWith, 0));
  ASSERT_OK(p.Start());
  const std::optional<int64_t> pid = p.pid();
  ASSERT_TRUE(pid.has_value());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.pid(), pid);
}

TEST_P(ConformanceTest, GrandchildSeesTheChildAsItsParent) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> out, manager.List<std::string>());
  Process child =
      RunToEnd(Target(&workloads::SpawnGrandchild, out), {.name = "mid"});
  EXPECT_EQ(child.exitcode(), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> seen, out.Snapshot());
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[2], "mid");
  EXPECT_EQ(seen[3], absl::StrCat(*child.pid()));
  EXPECT_NE(seen[1], absl::StrCat(*child.pid()));
  ASSERT_OK(manager.Shutdown());
}

}  // namespace
}  // namespace mproc::conformance
