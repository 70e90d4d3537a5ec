#include "tests/conformance/conformance.h"

#include "api/current_process.h"
#include "tests/testing/status_matchers.h"

namespace mproc::conformance {

void ConformanceTest::SetUp() {
  absl::StatusOr<Context> context = GetContext(GetParam().context);
  ASSERT_TRUE(context.ok()) << context.status();
  context_ = *context;
  ASSERT_TRUE(ActiveChildren().empty())
      << "a previous test left children running";
  baseline_ = GetParam().probe();
}

void ConformanceTest::TearDown() {
  if (!context_.has_value()) return;
  // Every test joins what it starts (or waits for ActiveChildren() to reap
  // what it let go of), and Manager::Shutdown returns once its server is
  // reaped: nothing may be pending here.
  EXPECT_THAT(ActiveChildren(), ::testing::IsEmpty())
      << "the test left children running";
  EXPECT_EQ(GetParam().probe(), baseline_) << "the test left resources behind";
}

Process ConformanceTest::RunToEnd(TargetCall target, ProcessOptions options) {
  Process process = ctx().NewProcess(std::move(target), std::move(options));
  EXPECT_OK(process.Start());
  EXPECT_OK(process.Join(kDeadline));
  EXPECT_FALSE(process.IsAlive());
  return process;
}

std::vector<Process> ConformanceTest::StartAll(
    const std::vector<TargetCall>& targets) {
  std::vector<Process> processes;
  for (const TargetCall& target : targets) {
    processes.push_back(ctx().NewProcess(target));
    EXPECT_OK(processes.back().Start());
  }
  return processes;
}

void ConformanceTest::JoinAllSucceeded(std::vector<Process>& processes) {
  for (Process& p : processes) {
    EXPECT_OK(p.Join(kDeadline));
    EXPECT_EQ(p.exitcode(), 0) << p.name();
  }
}

std::string ConformanceName(
    const ::testing::TestParamInfo<BackendUnderTest>& info) {
  return info.param.label;
}

}  // namespace mproc::conformance
