// -----------------------------------------------------------------------------
// File: backends/thread/cancellable_wait.h
// -----------------------------------------------------------------------------
//
// Thread backend only: the one way its blocking calls wait, so that a
// cancelled child (Terminate, Kill) unwinds from any of them.

#ifndef MPROC_BACKENDS_THREAD_CANCELLABLE_WAIT_H_
#define MPROC_BACKENDS_THREAD_CANCELLABLE_WAIT_H_

#include <stop_token>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/cancellation.h"

namespace mproc::thread {

// Blocks on `mu` until `ready()`, the caller's stop token stops or
// `deadline` passes; returns false when stopped or past the deadline first.
// `mu` is held on return. `ready` is called with `mu` held.
//
// The wait's CancellationWake must end with `mu` released, so `mu` is taken
// once more after it (and `ready()` asked again: another thread may have
// taken what made it true).
template <typename Ready>
bool LockWhenReadyOrStopped(absl::Mutex& mu, Ready ready,
                            absl::Time deadline = absl::InfiniteFuture()) {
  std::stop_token token = CurrentStopToken();
  struct Args {
    Ready* ready;
    std::stop_token* token;
  } args{&ready, &token};
  const absl::Condition ready_or_stopped(
      +[](Args* a) { return (*a->ready)() || a->token->stop_requested(); },
      &args);
  if (!token.stop_possible()) {  // nothing to wake it: no second lock
    mu.LockWhenWithDeadline(ready_or_stopped, deadline);
    return ready();
  }
  while (true) {
    {
      const CancellationWake wake(&mu);
      mu.LockWhenWithDeadline(ready_or_stopped, deadline);
      mu.Unlock();
    }
    mu.Lock();
    if (ready() || token.stop_requested() || absl::Now() >= deadline) {
      return ready();
    }
    mu.Unlock();
  }
}

}  // namespace mproc::thread

#endif  // MPROC_BACKENDS_THREAD_CANCELLABLE_WAIT_H_
