// -----------------------------------------------------------------------------
// File: tests/conformance/conformance.h
// -----------------------------------------------------------------------------
//
// The conformance suite: one value-parameterised GoogleTest suite that every
// backend must pass. A backend's test file instantiates it once per context
// (plus its probe):
//
//   MPROC_INSTANTIATE_CONFORMANCE_SUITE(
//       Thread, (mproc::conformance::BackendUnderTest{
//                   .label = "Thread", .context = "thread",
//                   .probe = &mproc::testing::ProbeThreadResources}));
//
// and links `mproc_conformance` (an OBJECT library: every test is linked).
// The suite itself never touches the OS: OS facts come from the backend's
// `Capabilities` (skips, each printing its reason), from the probe ("no
// child, zombie or descriptor is left behind" after every test), and from
// the optional hooks of `BackendUnderTest` (a test whose hook is missing
// skips, naming it). The map of rules to tests: tests/conformance/README.md;
// the contract itself: docs/design.md.

#ifndef MPROC_TESTS_CONFORMANCE_CONFORMANCE_H_
#define MPROC_TESTS_CONFORMANCE_CONFORMANCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "api/context.h"
#include "api/process.h"
#include "api/target.h"
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

// What a Manager owner killed by SIGKILL leaves behind at one of this
// backend's addresses (a socket file, a directory), made by a test hook.
struct StaleAddress {
  // True while what was left is still there.
  std::function<bool()> still_there;
  // Kept alive for the test (e.g. a setting that makes this backend's
  // Listen use such addresses); removes what is left when destroyed.
  std::shared_ptr<void> scope;
};

struct BackendUnderTest {
  std::string label;    // test-name suffix, alphanumeric: "Thread", "PosixFork"
  std::string context;  // GetContext name: "thread", "posix:fork"
  std::function<ResourceSnapshot()> probe;

  // Optional OS facts. Each is asked by the OS's own means, never through
  // the backend under test; a test that needs a missing one skips, saying
  // which.

  // False once process `pid` (any process, not only a child) has ended,
  // reaped or not; true while it runs.
  std::function<bool(int64_t pid)> is_pid_alive;
  // Ends process `pid` at once, as SIGKILL does (an OS kill that bypasses
  // mproc, and the cleanup of a failed test).
  std::function<void(int64_t pid)> kill_pid;
  // A registered target that ends with the number of descriptors / handles
  // its process holds that docs/design.md §5 forbids a child: those of its
  // parent's other children and of mproc's own transports (Manager
  // connections, child handles). Called in the parent; the TargetCall runs in
  // the child.
  std::function<TargetCall()> forbidden_descriptor_census;
  // The calling thread's OS id, and whether the OS still holds that thread
  // (a joined thread may linger in the kernel for a moment).
  std::function<int64_t()> os_thread_id;
  std::function<bool(int64_t tid)> is_os_thread_alive;
  // Leaves what a killed Manager owner leaves at an address of this backend.
  // Missing for a backend whose addresses leave nothing behind.
  std::function<StaleAddress()> leave_stale_address;
};

// Prints the label, so gtest shows which backend a failure is on.
inline void PrintTo(const BackendUnderTest& backend, std::ostream* os) {
  *os << backend.label;
}

class ConformanceTest : public ::testing::TestWithParam<BackendUnderTest> {
 public:
  // A generous bound for waits on things that should happen quickly; never
  // asserted as a duration (timing lives in bench/).
  static constexpr absl::Duration kDeadline = absl::Seconds(30);

 protected:
  // Resolves the context and takes the resource baseline.
  void SetUp() override;
  // Fails the test if a child or descriptor is left behind. Nothing waits
  // here: every test joins what it starts.
  void TearDown() override;

  const Context& ctx() const { return *context_; }
  const Capabilities& caps() const { return context_->capabilities(); }

  // Starts and joins a child running `target`; fails the test on error.
  Process RunToEnd(TargetCall target, ProcessOptions options = {});

  // Starts a child for each of `targets`, in order; fails the test on error.
  std::vector<Process> StartAll(const std::vector<TargetCall>& targets);

  // Joins each of `processes`; fails the test unless each exited with 0.
  static void JoinAllSucceeded(std::vector<Process>& processes);

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

// Skips the test, naming the hook, when the backend's test file does not
// provide `hook` (a field of BackendUnderTest).
#define MPROC_REQUIRE_HOOK(hook)                                        \
  if (!GetParam().hook)                                                 \
  GTEST_SKIP() << GetParam().label << "'s test file provides no " #hook \
               << " hook (tests/conformance/conformance.h)"

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
