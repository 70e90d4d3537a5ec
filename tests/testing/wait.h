// -----------------------------------------------------------------------------
// File: tests/testing/wait.h
// -----------------------------------------------------------------------------
//
// Bounded waits on real conditions, for tests. No sleeps: the wait yields the
// CPU between checks and gives up at the deadline.

#ifndef MPROC_TESTS_TESTING_WAIT_H_
#define MPROC_TESTS_TESTING_WAIT_H_

#include <cstdint>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/manager.h"

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

// Returns true as soon as `list` holds at least `count` items or a call on it
// fails (the caller's next call then reports why), false if `timeout`
// passes first.
template <typename T>
bool WaitForListSize(const ListProxy<T>& list, int64_t count,
                     absl::Duration timeout) {
  return WaitUntil(
      [&] {
        absl::StatusOr<int64_t> size = list.Size();
        return !size.ok() || *size >= count;
      },
      timeout);
}

}  // namespace mproc::testing

#endif  // MPROC_TESTS_TESTING_WAIT_H_
