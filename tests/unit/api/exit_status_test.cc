// Unit tests for api/exit_status.h: the one exitcode mapping.
#include "api/exit_status.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace mproc {
namespace {

TEST(ExitStatusTest, ExitedGivesItsCode) {
  constexpr ExitStatus status = ExitStatus::Exited(3);
  EXPECT_FALSE(status.signaled());
  EXPECT_EQ(status.code(), 3);
  EXPECT_EQ(status.exitcode(), 3);
  EXPECT_EQ(ExitStatus::Exited(0).exitcode(), 0);
  EXPECT_EQ(ExitStatus::Exited(255).exitcode(), 255);
}

TEST(ExitStatusTest, SignaledGivesMinusTheSignal) {
  constexpr ExitStatus terminated = ExitStatus::Signaled(kTerminateSignal);
  EXPECT_TRUE(terminated.signaled());
  EXPECT_EQ(terminated.signal(), 15);
  EXPECT_EQ(terminated.exitcode(), -15);
  EXPECT_EQ(ExitStatus::Signaled(kKillSignal).exitcode(), -9);
  EXPECT_NE(ExitStatus::Signaled(9), ExitStatus::Exited(9));
  EXPECT_EQ(ExitStatus::Signaled(9), ExitStatus::Signaled(9));
}

TEST(ExitStatusTest, WindowsTerminationCodesMapToSignals) {
  EXPECT_EQ(ExitStatus::FromWindowsExitCode(0x1000F), ExitStatus::Signaled(15));
  EXPECT_EQ(ExitStatus::FromWindowsExitCode(0x1000F).exitcode(), -15);
  EXPECT_EQ(ExitStatus::FromWindowsExitCode(0x10009).exitcode(), -9);
  EXPECT_EQ(ExitStatus::FromWindowsExitCode(kWindowsTerminateCode).exitcode(),
            -15);
  EXPECT_EQ(ExitStatus::FromWindowsExitCode(kWindowsKillCode).exitcode(), -9);
}

TEST(ExitStatusTest, OtherWindowsCodesAreExitCodes) {
  EXPECT_EQ(ExitStatus::FromWindowsExitCode(0), ExitStatus::Exited(0));
  EXPECT_EQ(ExitStatus::FromWindowsExitCode(259), ExitStatus::Exited(259));
  EXPECT_EQ(ExitStatus::FromWindowsExitCode(259).exitcode(), 259);
  // CPython's own TerminateProcess code is not ours: an ordinary exit code.
  EXPECT_EQ(ExitStatus::FromWindowsExitCode(0x10000).exitcode(), 0x10000);
  const ExitStatus access_violation =
      ExitStatus::FromWindowsExitCode(0xC0000005u);
  EXPECT_FALSE(access_violation.signaled());
  EXPECT_EQ(access_violation.exitcode(), static_cast<int>(0xC0000005u));
}

TEST(ExitCodeToStringTest, NamesSignalsAsCPythonDoes) {
  EXPECT_EQ(ExitCodeToString(-15), "-SIGTERM");
  EXPECT_EQ(ExitCodeToString(-9), "-SIGKILL");
  // Other names come from the platform (Backend::SignalName).
  EXPECT_EQ(ExitCodeToString(-10, "SIGBUS"), "-SIGBUS");
  EXPECT_EQ(ExitCodeToString(-11, "SIGSEGV"), "-SIGSEGV");
  EXPECT_EQ(ExitCodeToString(-11), "-11");
}

TEST(ExitCodeToStringTest, PrintsOtherCodesAsNumbers) {
  EXPECT_EQ(ExitCodeToString(0), "0");
  EXPECT_EQ(ExitCodeToString(3), "3");
  EXPECT_EQ(ExitCodeToString(15), "15");
  EXPECT_EQ(ExitCodeToString(15, "SIGTERM"), "15");
  EXPECT_EQ(ExitCodeToString(-100), "-100");
  EXPECT_EQ(ExitCodeToString(static_cast<int>(0xC0000005u)), "-1073741819");
  // The most negative exitcode a Windows child can report (0x80000000).
  EXPECT_EQ(ExitCodeToString(std::numeric_limits<int>::min()), "-2147483648");
}

}  // namespace
}  // namespace mproc
