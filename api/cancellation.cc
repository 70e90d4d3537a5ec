#include "api/cancellation.h"

#include "absl/synchronization/mutex.h"
#include "api/internal/process_state.h"

namespace mproc {

void CancellationFlag::Request(int signal) {
  int none = 0;
  signal_.compare_exchange_strong(none, signal, std::memory_order_acq_rel);
  source_.request_stop();
}

std::stop_token CurrentStopToken() {
  internal::ProcessState& self = internal::CurrentState();
  if (!self.cancellable()) return std::stop_token();
  return self.cancellation()->token();
}

void CancellationPoint() {
  internal::ProcessState& self = internal::CurrentState();
  if (!self.cancellable()) return;
  if (const int signal = self.cancellation()->signal(); signal != 0) {
    throw ProcessCancelled{signal};
  }
}

void Sleep(absl::Duration duration) {
  std::stop_token token = CurrentStopToken();
  if (!token.stop_possible()) {
    absl::SleepFor(duration);
    return;
  }
  // Wait on a private mutex; a cancellation request wakes the wait by
  // touching it, which makes absl::Mutex re-evaluate the condition.
  absl::Mutex mu;
  std::stop_callback wake(token, [&mu] { absl::MutexLock lock(&mu); });
  mu.LockWhenWithTimeout(
      absl::Condition(
          +[](std::stop_token* t) { return t->stop_requested(); }, &token),
      duration);
  mu.Unlock();
  CancellationPoint();
}

}  // namespace mproc
