// -----------------------------------------------------------------------------
// File: workloads/shared_state.h
// -----------------------------------------------------------------------------
//
// Registered targets that use the shared-state primitives (api/synchronize.h),
// for the conformance suite, the shared_counter example and the benchmarks.
// Each runs on every backend and start method.

#ifndef MPROC_WORKLOADS_SHARED_STATE_H_
#define MPROC_WORKLOADS_SHARED_STATE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "api/synchronize.h"

namespace mproc::workloads {

// `count` times: takes `total`'s lock, adds 1, releases it.
[[nodiscard]] absl::Status IncrementUnderLock(Value<int64_t> total,
                                              int64_t count);

// Waits at `start` (so every party runs at once, however slowly the OS
// starts processes), then `count` times reads `total` and writes it back
// plus 1, without a lock (each access atomic, the increment not): shows the
// race is real.
[[nodiscard]] absl::Status IncrementWithoutLock(RawValue<int64_t> total,
                                                int64_t count, Barrier start);

// Starts one child (same context) that runs IncrementUnderLock(total,
// count), and joins it: a primitive passed on to a grandchild.
[[nodiscard]] absl::Status IncrementInGrandchild(Value<int64_t> total,
                                                 int64_t count);

// Takes `lock` (RLock: twice), sets `held`, then waits for `never` for ever
// without releasing: the parent kills it while it holds the lock.
[[nodiscard]] absl::Status HoldLockUntilKilled(Lock lock, Event held,
                                               Event never);
[[nodiscard]] absl::Status HoldRLockUntilKilled(RLock lock, Event held,
                                                Event never);

// Fails unless Release of `lock`, held by the parent's thread, is refused.
[[nodiscard]] absl::Status ReleaseForeignRLock(RLock lock);

// Sets `out[i]` to i * 0.5 for i in [begin, end).
[[nodiscard]] absl::Status FillArray(Array<double> out, int64_t begin,
                                     int64_t end);

// `rounds` times: adds 1 to `arrived[round]`, waits at `barrier`, then
// fails unless `arrived[round]` equals the barrier's parties (all arrived
// before anyone left).
[[nodiscard]] absl::Status BarrierRounds(Barrier barrier,
                                         RawArray<int64_t> arrived,
                                         int64_t rounds);

// Waits at `barrier` for ever (the parent kills it there); counts itself in
// `waiting` first.
[[nodiscard]] absl::Status WaitAtBarrier(Barrier barrier);

// Sets `started`, then takes `lock` (which the parent holds: it waits
// there until the parent ends it) and releases it.
[[nodiscard]] absl::Status SignalThenAcquire(Event started, Lock lock);

// Waits for `go`, then sets `done`.
[[nodiscard]] absl::Status WaitThenSet(Event go, Event done);

// Takes `cond`, adds 1 to `waiting`, waits for a notification (up to
// `timeout_millis`), adds 1 to `woken` if notified, releases.
[[nodiscard]] absl::Status WaitForNotify(Condition cond,
                                         RawValue<int64_t> waiting,
                                         RawValue<int64_t> woken,
                                         int64_t timeout_millis);

// `count` times: takes `slots`, adds 1 to `inside` (and 1 to `over` when
// that makes more than `bound` inside at once), removes itself, releases.
[[nodiscard]] absl::Status UseSemaphore(Semaphore slots,
                                        RawValue<int64_t> inside,
                                        RawValue<int64_t> over, int64_t bound,
                                        int64_t count);

}  // namespace mproc::workloads

#endif  // MPROC_WORKLOADS_SHARED_STATE_H_
