// -----------------------------------------------------------------------------
// File: tests/conformance/conformance.h
// -----------------------------------------------------------------------------
//
// The conformance suite: one value-parameterised GoogleTest suite that every
// backend must pass. A backend's test file is one line (plus its probe):
//
//   MPROC_INSTANTIATE_CONFORMANCE_SUITE(
//       Thread, (mproc::conformance::BackendUnderTest{
//                   .label = "Thread", .context = "thread",
//                   .probe = &mproc::testing::ProbeThreadResources}));
//
// and links `mproc_conformance` (an OBJECT library: every test is linked).
// The suite itself never touches the OS: OS facts come from the backend's
// `Capabilities` (skips, each printing its reason) and from the probe ("no
// child, zombie or descriptor is left behind" after every test).

#ifndef MPROC_TESTS_CONFORMANCE_CONFORMANCE_H_
#define MPROC_TESTS_CONFORMANCE_CONFORMANCE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "api/context.h"
#include "api/process.h"
#include "gtest/gtest.h"

namespace mproc::conformance {

// What a backend holds that a test could leak.
struct ResourceSnapshot {
  int64_t children = 0;     // live children and unreaped (zombie) ones
  int64_t descriptors = 0;  // open descriptors / handles / transports
  friend bool operator==(const ResourceSnapshot&,
                         const ResourceSnapshot&) = default;
  friend std::ostream& operator<<(std::ostream& os, const ResourceSnapshot& s) {
    return os << "{children=" << s.children << ", descriptors=" << s.descriptors
              << "}";
  }
};

struct BackendUnderTest {
  std::string label;    // test-name suffix, alphanumeric: "Thread", "PosixFork"
  std::string context;  // GetContext name: "thread", "posix:fork"
  std::function<ResourceSnapshot()> probe;
};

// Prints the label, so gtest shows which backend a failure is on.
inline void PrintTo(const BackendUnderTest& backend, std::ostream* os) {
  *os << backend.label;
}

class ConformanceTest : public ::testing::TestWithParam<BackendUnderTest> {
 protected:
  // Resolves the context and takes the resource baseline.
  void SetUp() override;
  // Fails the test if a child or descriptor is left behind (waiting up to
  // kLeakDeadline for children to be reaped).
  void TearDown() override;

  const Context& ctx() const { return *context_; }
  const Capabilities& caps() const { return context_->capabilities(); }

  // Starts and joins a child running `target`; fails the test on error.
  Process RunToEnd(TargetCall target, ProcessOptions options = {});

  // A generous bound for waits on things that should happen quickly; never
  // asserted as a duration (timing lives in bench/).
  static constexpr absl::Duration kDeadline = absl::Seconds(30);

 private:
  std::optional<Context> context_;
  ResourceSnapshot baseline_;
};

// Names instantiations by label.
std::string ConformanceName(
    const ::testing::TestParamInfo<BackendUnderTest>& info);

}  // namespace mproc::conformance

// Skips the test, printing the backend's reason, when it lacks `capability`
// (a field of mproc::Capabilities).
#define MPROC_REQUIRE_CAPABILITY(capability)                     \
  if (!caps().capability.supported)                              \
  GTEST_SKIP() << GetParam().label << " lacks " #capability ": " \
               << caps().capability.reason

// Instantiates the whole suite for the BackendUnderTest values given. Use at
// global scope.
#define MPROC_INSTANTIATE_CONFORMANCE_SUITE(prefix, ...)           \
  namespace mproc::conformance {                                   \
  INSTANTIATE_TEST_SUITE_P(prefix, ConformanceTest,                \
                           ::testing::Values(__VA_ARGS__),         \
                           ::mproc::conformance::ConformanceName); \
  }                                                                \
  static_assert(true, "require a semicolon")

#endif  // MPROC_TESTS_CONFORMANCE_CONFORMANCE_H_
