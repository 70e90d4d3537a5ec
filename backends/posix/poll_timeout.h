// POSIX only: the timeout argument of poll() for a deadline, and the backoff
// of a wait that polls.
#ifndef MPROC_BACKENDS_POSIX_POLL_TIMEOUT_H_
#define MPROC_BACKENDS_POSIX_POLL_TIMEOUT_H_

#include <poll.h>

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
// a pidfd: posix_child.h): 1 ms, doubling up to kMaxMs, none past the
// deadline. So a child that ends after t is seen within about t more (at
// most kMaxMs), at a handful of wake-ups a second once it runs long.
class PollBackoff {
 public:
  static constexpr int kMaxMs = 50;

  // Sleeps for the next pause, or until `deadline` if that comes first.
  void Pause(absl::Time deadline) {
    (void)poll(nullptr, 0, PollTimeout(deadline, ms_));
    ms_ = std::min(ms_ * 2, kMaxMs);
  }

 private:
  int ms_ = 1;
};

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_POLL_TIMEOUT_H_
