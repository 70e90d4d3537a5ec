// POSIX only: the timeout argument of poll() for a deadline, and the backoff
// of a wait that polls.
#ifndef MPROC_BACKENDS_POSIX_POLL_TIMEOUT_H_
#define MPROC_BACKENDS_POSIX_POLL_TIMEOUT_H_

#include <time.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "absl/time/time.h"
#include "api/fork_safety.h"

namespace mproc::posix {

// Milliseconds from now to `deadline` for poll(): -1 (for ever) when the
// deadline is infinite, else rounded up and at least 0; at most `cap_ms`
// when `cap_ms` >= 0. Reads the clock with ForkSafeNow, so a forked child
// may call it.
inline int PollTimeout(absl::Time deadline, int cap_ms = -1) {
  int ms = -1;
  if (deadline != absl::InfiniteFuture()) {
    const absl::Duration left = deadline - ForkSafeNow();
    const int64_t rounded = absl::ToInt64Milliseconds(absl::Ceil(
        std::max(left, absl::ZeroDuration()), absl::Milliseconds(1)));
    ms = static_cast<int>(std::min<int64_t>(rounded, INT_MAX));
  }
  if (cap_ms >= 0 && (ms < 0 || ms > cap_ms)) ms = cap_ms;
  return ms;
}

// PollBackoff
//
// The pauses of a wait for what no descriptor reports (a child's end without
// a pidfd: posix_child.h): 50 µs, doubling up to 50 ms, none past the
// deadline. So a child that ends after t is seen within about t more (at
// least 50 µs, at most 50 ms), at a handful of wake-ups a second once it
// runs long. nanosleep and ForkSafeNow: a forked child may use it.
class PollBackoff {
 public:
  // Sleeps for the next pause, or until `deadline` if that comes first.
  void Pause(absl::Time deadline) {
    absl::Duration pause = pause_;
    if (deadline != absl::InfiniteFuture()) {
      pause = std::min(pause, deadline - ForkSafeNow());
      if (pause <= absl::ZeroDuration()) return;
    }
    const timespec length = absl::ToTimespec(pause);
    (void)nanosleep(&length, nullptr);  // EINTR: a shorter pause
    pause_ = std::min(pause_ * 2, absl::Milliseconds(50));
  }

 private:
  absl::Duration pause_ = absl::Microseconds(50);
};

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_POLL_TIMEOUT_H_
