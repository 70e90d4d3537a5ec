// Semaphore and BoundedSemaphore (api/semaphore.h).
#include "api/semaphore.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/fork_safety.h"
#include "gsl/util"

namespace mproc::internal {

absl::StatusOr<SemaphoreCore> SemaphoreCore::Create(Backend& backend,
                                                    int64_t value,
                                                    int64_t bound) {
  if (value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("semaphore initial value must be >= 0, not ", value));
  }
  absl::StatusOr<std::shared_ptr<const SharedParts>> parts =
      CreateSharedParts(backend, sizeof(SemaphoreState), 1);
  if (!parts.ok()) return parts.status();
  SemaphoreState& state = ConstructState<SemaphoreState>(**parts);
  state.count.store(value);
  state.bound = bound;
  return SemaphoreCore(*std::move(parts));
}

bool SemaphoreCore::TryTake() const {
  SemaphoreState& s = state();
  int64_t count = s.count.load();
  while (count > 0) {
    if (s.count.compare_exchange_weak(count, count - 1)) return true;
  }
  return false;
}

absl::StatusOr<bool> SemaphoreCore::Acquire(absl::Time deadline) const {
  if (TryTake()) return true;
  if (deadline == absl::InfinitePast()) return false;
  SemaphoreState& s = state();
  s.waiters.fetch_add(1);
  const auto leave = gsl::finally([&s] { s.waiters.fetch_sub(1); });
  for (;;) {
    if (TryTake()) return true;
    if (ForkSafeNow() >= deadline) return false;
    absl::StatusOr<bool> woke = SleepOn(parts_->semaphore(0), deadline);
    if (!woke.ok()) return woke.status();
  }
}

absl::Status SemaphoreCore::Release() const {
  SemaphoreState& s = state();
  int64_t count = s.count.load();
  for (;;) {
    if (s.bound >= 0 && count >= s.bound) {
      return absl::FailedPreconditionError(
          "semaphore or lock released too many times (a BoundedSemaphore "
          "is released once per Acquire)");
    }
    if (count == std::numeric_limits<int64_t>::max()) {
      return absl::OutOfRangeError("the semaphore's count would overflow");
    }
    if (s.count.compare_exchange_weak(count, count + 1)) break;
  }
  if (s.waiters.load() > 0) (void)parts_->semaphore(0).Release();
  return absl::OkStatus();
}

absl::StatusOr<SemaphoreCore> SemaphoreCore::Decode(ByteReader& in) {
  absl::StatusOr<std::shared_ptr<const SharedParts>> parts =
      DecodeSharedParts(in);
  if (!parts.ok()) return parts.status();
  if ((*parts)->memory->bytes().size() < sizeof(SemaphoreState) ||
      (*parts)->semaphores.size() != 1) {
    return absl::InvalidArgumentError(
        "malformed launch request: not a semaphore's shared state");
  }
  return SemaphoreCore(*std::move(parts));
}

}  // namespace mproc::internal
