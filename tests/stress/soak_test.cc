// The soak suite (see soak.h): start/join cycles, one Manager with many
// children, many running children terminated at once.
#include "tests/stress/soak.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "api/context.h"
#include "api/manager.h"
#include "api/process.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/workloads.h"

namespace mproc::soak {

// Appends `i` to `started`, waits until the Manager has it (so the parent
// knows this child runs), then runs until terminated.
absl::Status AnnounceThenRunUntilTerminated(int64_t i,
                                            ListProxy<int64_t> started) {
  if (absl::Status s = started.Append(i); !s.ok()) return s;
  if (absl::StatusOr<int64_t> n = started.Size(); !n.ok()) return n.status();
  workloads::RunUntilTerminated();
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET_AS("mproc.soak.AnnounceThenRunUntilTerminated",
                         &AnnounceThenRunUntilTerminated);

namespace {

constexpr int kExitCode = 7;

// One cycle: start a child, join it, check its exit code, release it.
absl::Status StartJoinClose(const Context& ctx) {
  Process p = ctx.NewProcess(Target(&workloads::ExitWith, kExitCode));
  if (absl::Status s = p.Start(); !s.ok()) return s;
  if (absl::Status s = p.Join(); !s.ok()) return s;
  if (p.exitcode() != kExitCode) {
    return absl::InternalError(absl::StrCat(
        "exitcode ", p.exitcode().value_or(-1000), ", not ", kExitCode));
  }
  return p.Close();
}

TEST_P(SoakTest, StartJoinCyclesLeaveNoZombieAndNoDescriptor) {
  const int64_t cycles = SizeFromEnv("MPROC_SOAK_CYCLES", 1000);
  // Warm-up: lazily created state (reaper threads, allocator arenas, ...)
  // is not growth.
  const int64_t warm_up = std::max<int64_t>(1, cycles / 10);
  const conformance::ResourceSnapshot start = Probe();
  for (int64_t i = 0; i < warm_up; ++i) {
    ASSERT_OK(StartJoinClose(ctx())) << "cycle " << i;
  }
  const conformance::ResourceSnapshot warm = ProbeOnceReaped(start);
  const std::optional<int64_t> warm_kib = ResidentKib();
  for (int64_t i = warm_up; i < cycles; ++i) {
    ASSERT_OK(StartJoinClose(ctx())) << "cycle " << i;
  }
  const conformance::ResourceSnapshot end = ProbeOnceReaped(start);
  const std::optional<int64_t> end_kib = ResidentKib();

  std::string figures = absl::StrCat(
      "cycles=", cycles, " zombies=", end.children - start.children,
      " descriptor_growth=", end.descriptors - warm.descriptors);
  if (warm_kib.has_value() && end_kib.has_value()) {
    absl::StrAppend(
        &figures, " rss_warm_kib=", *warm_kib, " rss_end_kib=", *end_kib,
        absl::StrFormat(" rss_growth_pct=%.1f",
                        100.0 * static_cast<double>(*end_kib - *warm_kib) /
                            static_cast<double>(*warm_kib)));
  }
  PrintFigures(GetParam().label, figures);
  EXPECT_EQ(end.children, start.children)
      << "children (zombies included) left after " << cycles << " cycles";
  EXPECT_EQ(end.descriptors, warm.descriptors)
      << "descriptors grew over " << cycles - warm_up << " cycles";
}

TEST_P(SoakTest, ManyChildrenEachAppendToOneManager) {
  const int64_t children = SizeFromEnv("MPROC_SOAK_MANAGER_CHILDREN", 2000);
  constexpr int64_t kBatch = 50;  // children running at the same time
  const conformance::ResourceSnapshot start = Probe();
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  for (int64_t first = 0; first < children; first += kBatch) {
    std::vector<Process> batch;
    for (int64_t i = first; i < std::min(children, first + kBatch); ++i) {
      batch.push_back(
          ctx().NewProcess(Target(&workloads::AppendRange, i, 1, list)));
      ASSERT_OK(batch.back().Start()) << "child " << i;
    }
    for (Process& p : batch) {
      ASSERT_OK(p.Join());
      ASSERT_EQ(p.exitcode(), 0) << p;
    }
  }
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> items, list.Snapshot());
  ASSERT_OK(manager.Shutdown());
  const conformance::ResourceSnapshot end = ProbeOnceReaped(start);
  PrintFigures(
      GetParam().label,
      absl::StrCat("manager_children=", children, " items=", items.size(),
                   " zombies=", end.children - start.children));
  std::sort(items.begin(), items.end());
  std::vector<int64_t> expected(children);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(items, expected) << "each child appends its own number once";
  EXPECT_EQ(end, start) << "children or descriptors left behind";
}

TEST_P(SoakTest, ManyRunningChildrenTerminatedAtOnce) {
  const int64_t count = SizeFromEnv("MPROC_SOAK_TERMINATE", 100);
  const conformance::ResourceSnapshot start = Probe();
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> started, manager.List<int64_t>());
  std::vector<Process> running;
  for (int64_t i = 0; i < count; ++i) {
    running.push_back(
        ctx().NewProcess(Target(&AnnounceThenRunUntilTerminated, i, started)));
    ASSERT_OK(running.back().Start()) << "child " << i;
  }
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return started.Size().value_or(-1) == count; }, kDeadline))
      << "only " << started.Size().value_or(-1) << " of " << count
      << " children started";
  for (Process& p : running) ASSERT_OK(p.Terminate());
  int64_t terminated = 0;
  for (Process& p : running) {
    ASSERT_OK(p.Join());
    if (p.exitcode() == -15) ++terminated;
    EXPECT_EQ(p.exitcode(), -15) << p;
  }
  ASSERT_OK(manager.Shutdown());
  const conformance::ResourceSnapshot end = ProbeOnceReaped(start);
  PrintFigures(GetParam().label,
               absl::StrCat("terminated=", count, " exit_minus_15=", terminated,
                            " zombies=", end.children - start.children));
  EXPECT_EQ(end, start) << "children or descriptors left behind";
}

}  // namespace
}  // namespace mproc::soak
