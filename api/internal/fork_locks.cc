// The fork-guarded mutexes and PrepareFork / AfterForkIn* (api/backend.h).
#include "api/internal/fork_locks.h"

#include <chrono>
#include <new>

#include "absl/base/internal/tsan_mutex_interface.h"
#include "absl/synchronization/mutex.h"
#include "api/fork_safety.h"

namespace mproc {
namespace internal {
namespace {

constexpr int kGuardedCount = static_cast<int>(ForkGuarded::kCount);

// Constant-initialised, so no static-initialisation guard (a lock a child
// could also inherit held) is ever taken for them.
ABSL_CONST_INIT absl::Mutex guarded[kGuardedCount] = {
    absl::Mutex(absl::kConstInit), absl::Mutex(absl::kConstInit),
    absl::Mutex(absl::kConstInit), absl::Mutex(absl::kConstInit),
    absl::Mutex(absl::kConstInit)};
static_assert(kGuardedCount == 5, "initialise every fork-guarded mutex");

// Makes sure the calling thread has its Abseil thread identity (allocated
// under a process-wide Abseil lock by a thread's first blocking Mutex call),
// so the forked child, which continues this thread, never allocates one.
void EnsureThreadIdentity() {
  thread_local bool done = false;
  if (done) return;
  absl::Mutex mu;
  absl::CondVar cv;
  absl::MutexLock lock(&mu);
  (void)cv.WaitWithTimeout(&mu, absl::ZeroDuration());
  done = true;
}

}  // namespace

absl::Mutex& ForkGuardedMutex(ForkGuarded which) {
  return guarded[static_cast<int>(which)];
}

}  // namespace internal

absl::Time ForkSafeNow() {
  // The system clock is read without a lock (clock_gettime on Linux).
  return absl::FromChrono(std::chrono::system_clock::now());
}

bool EnableForkSafety() {
  // Debian's Abseil keeps deadlock detection on (it is built without NDEBUG):
  // every Mutex operation then takes one process-wide spin lock, which a
  // child forked while any thread is inside any Mutex call inherits held.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return true;
}

void PrepareFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  internal::EnsureThreadIdentity();
  for (absl::Mutex& mu : internal::guarded) mu.Lock();
}

void AfterForkInParent() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (int i = internal::kGuardedCount - 1; i >= 0; --i) {
    internal::guarded[i].Unlock();
  }
}

void AfterForkInChild() {
  // Each is held by this thread, and its data is consistent.
  for (absl::Mutex& mu : internal::guarded) ResetMutexInForkedChild(mu);
}

void ResetMutexInForkedChild(absl::Mutex& mu) {
  // A race detector that tracks the mutex learns that this thread (the
  // forking one, continued here) released it; then it starts afresh.
  ABSL_TSAN_MUTEX_PRE_UNLOCK(&mu, 0);
  ABSL_TSAN_MUTEX_POST_UNLOCK(&mu, 0);
  new (&mu) absl::Mutex();
}

}  // namespace mproc
