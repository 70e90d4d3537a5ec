// -----------------------------------------------------------------------------
// File: api/cancellation.h
// -----------------------------------------------------------------------------
//
// Cooperative termination, for backends whose children cannot be killed from
// outside (the thread backend). `Terminate()` / `Kill()` on such a child set
// its cancellation flag; the child unwinds at its next cancellation point:
// `mproc::CancellationPoint()`, `mproc::Sleep()` and every blocking Manager
// call. It unwinds by throwing `ProcessCancelled`, a type *not* derived from
// std::exception; the flag stays set, so a `catch (...)` that swallows it is
// caught again at the next point. The child then ends with exitcode -15 / -9.
//
// In a real OS process (posix, windows) there is no flag: these functions
// never throw, and `Sleep` just sleeps; the OS ends the process instead.

#ifndef MPROC_API_CANCELLATION_H_
#define MPROC_API_CANCELLATION_H_

#include <atomic>
#include <memory>
#include <stop_token>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mproc {

// What a cancelled child unwinds with. Do not catch it (or rethrow it).
struct ProcessCancelled {
  int signal;  // kTerminateSignal or kKillSignal
};

// CancellationFlag
//
// One child's cancellation state, owned by a cooperative backend and read by
// the child. Thread-safe. The first request decides the signal, as the first
// delivered signal decides how a real process dies.
class CancellationFlag {
 public:
  // Requests cancellation with `signal` (15 or 9) and wakes the waits of
  // the child that registered a CancellationWake.
  void Request(int signal);
  // The requested signal, or 0.
  int signal() const { return signal_.load(std::memory_order_acquire); }
  // Stops when cancellation is requested; for wait functions that take one.
  std::stop_token token() const { return source_.get_token(); }

 private:
  friend class CancellationWake;

  std::atomic<int> signal_{0};
  std::stop_source source_;
  // The mutexes of the child's waits in progress (CancellationWake).
  absl::Mutex wake_mu_;
  std::vector<absl::Mutex*> to_wake_ ABSL_GUARDED_BY(wake_mu_);
};

// CancellationWake
//
// For a cooperative backend's blocking wait on an absl::Mutex condition that
// reads CurrentStopToken(): while one lives, a cancellation request for the
// calling child locks and unlocks `mu`, so absl::Mutex evaluates the
// condition again and the wait ends. Does nothing where the calling process
// cannot be cancelled.
//
// Contract: construct it before locking `mu` and destroy it after unlocking
// `mu` (a request holds the child's registry while it takes `mu`); `mu`
// outlives it.
//
// Why not std::stop_callback: its destructor waits for a callback running on
// another thread through std::binary_semaphore, which GCC 12's libstdc++
// builds on a waiter pool that can lose the wake-up where there are no
// futexes (mingw-w64), and which deadlocks whenever the waiter still holds
// the mutex the callback takes.
class CancellationWake {
 public:
  explicit CancellationWake(absl::Mutex* mu);
  ~CancellationWake();
  CancellationWake(const CancellationWake&) = delete;
  CancellationWake& operator=(const CancellationWake&) = delete;

 private:
  const std::shared_ptr<CancellationFlag> flag_;  // null: not cancellable
  absl::Mutex* const mu_;
};

// The token a cooperative backend's blocking calls (Channel::ReadSome,
// Listener::Accept) watch: it stops when the calling child is cancelled. A
// token that never stops in the main process, in real OS processes, and while
// a child runs its exit-time rules.
std::stop_token CurrentStopToken();

// Throws ProcessCancelled if the calling child has been asked to end.
// Does nothing in a real OS process and in the main process.
void CancellationPoint();

// Sleeps for `duration` (negative: no sleep), waking early to unwind if the
// calling child is cancelled. Use it in targets instead of sleeping directly.
void Sleep(absl::Duration duration);

}  // namespace mproc

#endif  // MPROC_API_CANCELLATION_H_
