// -----------------------------------------------------------------------------
// File: tests/testing/wait.h
// -----------------------------------------------------------------------------
//
// Bounded waits on real conditions, for tests. No sleeps: the wait yields the
// CPU between checks and gives up at the deadline.

#ifndef MPROC_TESTS_TESTING_WAIT_H_
#define MPROC_TESTS_TESTING_WAIT_H_

#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mproc::testing {

// Returns true as soon as `condition()` holds, false if `timeout` passes first.
template <typename Condition>
bool WaitUntil(Condition condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace mproc::testing

#endif  // MPROC_TESTS_TESTING_WAIT_H_
