// -----------------------------------------------------------------------------
// File: tests/stress/soak.h
// -----------------------------------------------------------------------------
//
// The soak tests (label `stress`): many start/join cycles, many children on
// one Manager, many children terminated at once, on each context. They are
// bounded: the sizes CI runs come from environment variables with CI-sized
// defaults, and scripts/stress runs them at full size:
//
//   MPROC_SOAK_CYCLES            start/join cycles per context (1000)
//   MPROC_SOAK_MANAGER_CHILDREN  children appending to one Manager (2000)
//   MPROC_SOAK_TERMINATE         running children terminated at once (100)
//
// Each test prints its figures as `[soak] <label> <name>=<value> ...` lines
// on stdout (scripts/stress reads them and judges the figures that are not
// asserted here, such as RSS growth). A context's file instantiates the
// suite with MPROC_INSTANTIATE_SOAK_SUITE and its resource probe, as the
// conformance suite does.

#ifndef MPROC_TESTS_STRESS_SOAK_H_
#define MPROC_TESTS_STRESS_SOAK_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"

namespace mproc::soak {

// The value of the environment variable `name` when it is a positive
// integer, `fallback` when it is unset; a test failure (and `fallback`)
// when it is set to anything else.
int64_t SizeFromEnv(const char* name, int64_t fallback);

// This process's resident set size in KiB (VmRSS of /proc/self/status), or
// std::nullopt where that file does not exist.
std::optional<int64_t> ResidentKib();

// Prints `[soak] <label> <figures>` on its own line.
void PrintFigures(absl::string_view label, absl::string_view figures);

// Names instantiations by label.
std::string SoakName(
    const ::testing::TestParamInfo<conformance::BackendUnderTest>& info);

class SoakTest
    : public ::testing::TestWithParam<conformance::BackendUnderTest> {
 protected:
  void SetUp() override;

  const Context& ctx() const { return *context_; }
  conformance::ResourceSnapshot Probe() const { return GetParam().probe(); }
  // Waits (up to kDeadline) until the probe shows `baseline.children` or
  // fewer children, then returns the probe.
  conformance::ResourceSnapshot ProbeOnceReaped(
      const conformance::ResourceSnapshot& baseline) const;

  static constexpr absl::Duration kDeadline = absl::Seconds(60);

 private:
  std::optional<Context> context_;
};

}  // namespace mproc::soak

// Instantiates the soak suite for the BackendUnderTest values given.
#define MPROC_INSTANTIATE_SOAK_SUITE(prefix, ...)                            \
  namespace mproc::soak {                                                    \
  INSTANTIATE_TEST_SUITE_P(prefix, SoakTest, ::testing::Values(__VA_ARGS__), \
                           ::mproc::soak::SoakName);                         \
  }                                                                          \
  static_assert(true, "require a semicolon")

#endif  // MPROC_TESTS_STRESS_SOAK_H_
