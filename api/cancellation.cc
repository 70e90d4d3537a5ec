#include "api/cancellation.h"

#include <algorithm>

#include "absl/synchronization/mutex.h"
#include "api/internal/process_state.h"

namespace mproc {

void CancellationFlag::Request(int signal) {
  int none = 0;
  signal_.compare_exchange_strong(none, signal, std::memory_order_acq_rel);
  source_.request_stop();
  absl::MutexLock registry(&wake_mu_);
  for (absl::Mutex* mu : to_wake_) {
    mu->Lock();
    mu->Unlock();
  }
}

namespace {

std::shared_ptr<CancellationFlag> CancellableFlag() {
  internal::ProcessState& self = internal::CurrentState();
  if (!self.cancellable()) return nullptr;
  return self.cancellation();
}

}  // namespace

CancellationWake::CancellationWake(absl::Mutex* mu)
    : flag_(CancellableFlag()), mu_(mu) {
  if (flag_ == nullptr) return;
  absl::MutexLock registry(&flag_->wake_mu_);
  flag_->to_wake_.push_back(mu_);
}

CancellationWake::~CancellationWake() {
  if (flag_ == nullptr) return;
  mu_->AssertNotHeld();
  absl::MutexLock registry(&flag_->wake_mu_);
  std::vector<absl::Mutex*>& to_wake = flag_->to_wake_;
  to_wake.erase(std::find(to_wake.begin(), to_wake.end(), mu_));
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
  {
    const CancellationWake wake(&mu);
    mu.LockWhenWithTimeout(
        absl::Condition(
            +[](std::stop_token* t) { return t->stop_requested(); }, &token),
        duration);
    mu.Unlock();
  }
  CancellationPoint();
}

}  // namespace mproc
