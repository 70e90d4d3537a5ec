// The lock behind Lock, RLock, Condition, Value and Array (lock_core.h).
#include "api/internal/lock_core.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/fork_safety.h"
#include "gsl/util"

namespace mproc::internal {
namespace {

constexpr absl::Duration kFirstSlice = absl::Milliseconds(10);
constexpr absl::Duration kLongestSlice = absl::Milliseconds(200);

}  // namespace

absl::StatusOr<LockCore> LockCore::Create(Backend& backend, bool recursive) {
  absl::StatusOr<std::shared_ptr<const SharedParts>> parts =
      CreateSharedParts(backend, sizeof(LockState), 1);
  if (!parts.ok()) return parts.status();
  ConstructState<LockState>(**parts);
  return LockCore(*std::move(parts), recursive);
}

absl::StatusOr<bool> LockCore::Acquire(absl::Time deadline) const {
  LockState& s = state();
  const uint64_t me = CallerToken();
  if (recursive_ && s.owner.load(std::memory_order_relaxed) == me) {
    ++s.depth;
    return true;
  }
  uint64_t expected = 0;
  if (s.owner.compare_exchange_strong(expected, me,
                                      std::memory_order_acquire)) {
    s.depth = 1;
    return true;
  }
  return AcquireSlow(me, deadline);
}

bool LockCore::TryAcquire() const {
  LockState& s = state();
  uint64_t expected = 0;
  if (s.owner.load(std::memory_order_relaxed) != 0) return false;
  if (!s.owner.compare_exchange_strong(expected, CallerToken(),
                                       std::memory_order_acquire)) {
    return false;
  }
  s.depth = 1;
  return true;
}

absl::Status LockCore::TakeOverFromDead(uint64_t me, bool& taken) const {
  LockState& s = state();
  taken = false;
  uint64_t holder = s.owner.load();
  if (holder == 0 || parts_->backend->IsProcessAlive(PidOfToken(holder))) {
    return absl::OkStatus();
  }
  if (!s.owner.compare_exchange_strong(holder, me)) return absl::OkStatus();
  s.depth = 1;
  taken = true;
  return absl::AbortedError(absl::StrCat(
      "the holder of this ", recursive_ ? "RLock" : "Lock", " (process ",
      PidOfToken(holder),
      ") died without releasing it; the lock is now held by this caller, "
      "but what it guarded may be half-updated: check it, then Release"));
}

absl::StatusOr<bool> LockCore::AcquireSlow(uint64_t me,
                                           absl::Time deadline) const {
  LockState& s = state();
  bool taken = false;
  if (deadline == absl::InfinitePast()) {
    absl::Status dead = TakeOverFromDead(me, taken);
    if (taken) return dead;
    return false;
  }
  s.waiters.fetch_add(1);
  const auto leave = gsl::finally([&s] { s.waiters.fetch_sub(1); });
  absl::Duration slice = kFirstSlice;
  for (;;) {
    uint64_t expected = 0;
    if (s.owner.compare_exchange_strong(expected, me)) {
      s.depth = 1;
      return true;
    }
    const absl::Time now = ForkSafeNow();
    if (now >= deadline) return false;
    absl::StatusOr<bool> woke =
        SleepOn(parts_->semaphore(semaphore_), std::min(deadline, now + slice));
    if (!woke.ok()) return woke.status();
    if (!*woke) {
      slice = std::min(slice * 2, kLongestSlice);
      absl::Status dead = TakeOverFromDead(me, taken);
      if (taken) return dead;
    }
  }
}

void LockCore::Wake() const {
  if (state().waiters.load() > 0) {
    // An overflowing count means plenty of wake-ups are pending already.
    (void)parts_->semaphore(semaphore_).Release();
  }
}

absl::Status LockCore::Release() const {
  LockState& s = state();
  if (recursive_) {
    if (s.owner.load(std::memory_order_relaxed) != CallerToken()) {
      return absl::FailedPreconditionError(
          "attempt to release recursive lock not owned by thread (an RLock "
          "is released by the thread that acquired it)");
    }
    if (--s.depth > 0) return absl::OkStatus();
  }
  if (s.owner.exchange(0) == 0) {
    return absl::FailedPreconditionError(
        "semaphore or lock released too many times (this Lock is not "
        "held)");
  }
  Wake();
  return absl::OkStatus();
}

bool LockCore::HeldByCaller() const {
  return state().owner.load(std::memory_order_relaxed) == CallerToken();
}

uint32_t LockCore::ReleaseAll() const {
  LockState& s = state();
  const uint32_t depth = s.depth;
  s.depth = 0;
  s.owner.exchange(0);
  Wake();
  return depth;
}

absl::Status LockCore::Reacquire(uint32_t depth) const {
  absl::StatusOr<bool> acquired = Acquire(absl::InfiniteFuture());
  state().depth = depth;
  return acquired.status();
}

void LockCore::Encode(ByteWriter& out) const {
  EncodeSharedParts(*parts_, out);
  out.PutBool(recursive_);
}

absl::StatusOr<LockCore> LockCore::Decode(ByteReader& in) {
  absl::StatusOr<std::shared_ptr<const SharedParts>> parts =
      DecodeSharedParts(in);
  if (!parts.ok()) return parts.status();
  absl::StatusOr<bool> recursive = in.GetBool();
  if (!recursive.ok()) return recursive.status();
  if ((*parts)->memory->bytes().size() < sizeof(LockState) ||
      (*parts)->semaphores.size() != 1) {
    return absl::InvalidArgumentError(
        "malformed launch request: not a lock's shared state");
  }
  return LockCore(*std::move(parts), *recursive);
}

}  // namespace mproc::internal
