// Condition (api/condition.h).
#include "api/condition.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace mproc {
namespace {

constexpr absl::Duration kSlice = absl::Milliseconds(100);
constexpr absl::Duration kNotifyPatience = absl::Milliseconds(50);

absl::Status NotHeld(absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot ", what, " on un-acquired lock (Acquire the Condition first)"));
}

}  // namespace

absl::StatusOr<Condition> Condition::WithLock(const Context& ctx,
                                              internal::LockCore lock) {
  absl::StatusOr<std::shared_ptr<const internal::SharedParts>> parts =
      internal::CreateSharedParts(ctx.backend(),
                                  sizeof(internal::ConditionState), 1);
  if (!parts.ok()) return parts.status();
  internal::ConstructState<internal::ConditionState>(**parts);
  return Condition(std::move(lock), *std::move(parts));
}

absl::StatusOr<Condition> Condition::Create(const Context& ctx) {
  absl::StatusOr<internal::LockCore> lock =
      internal::LockCore::Create(ctx.backend(), /*recursive=*/true);
  if (!lock.ok()) return lock.status();
  return WithLock(ctx, *std::move(lock));
}

absl::StatusOr<Condition> Condition::Create(const Context& ctx,
                                            const Lock& lock) {
  return WithLock(ctx, lock.core_);
}

absl::StatusOr<Condition> Condition::Create(const Context& ctx,
                                            const RLock& lock) {
  return WithLock(ctx, lock.core_);
}

bool Condition::TakeWakeUp(uint64_t ticket) const {
  internal::ConditionState& s = state();
  if (ticket >= s.eligible_below.load()) return false;
  int64_t pending = s.pending.load();
  while (pending > 0) {
    if (s.pending.compare_exchange_weak(pending, pending - 1)) return true;
  }
  return false;
}

absl::StatusOr<bool> Condition::Wait(absl::Duration timeout) const {
  if (!lock_.HeldByCaller()) return NotHeld("wait");
  internal::ConditionState& s = state();
  const absl::Time deadline = internal::DeadlineOf(timeout);
  const uint64_t ticket = s.next_ticket.fetch_add(1);
  s.waiting.fetch_add(1);
  const uint32_t depth = lock_.ReleaseAll();
  bool notified = false;
  absl::Status error;
  while (!(notified = TakeWakeUp(ticket))) {
    const absl::Time now = ForkSafeNow();
    if (now >= deadline) break;
    absl::StatusOr<bool> woke = internal::SleepOn(
        parts_->semaphore(0), std::min(deadline, now + kSlice));
    if (!woke.ok()) {
      error = woke.status();
      break;
    }
    // A wake-up taken from an older waiter (one woken by a Notify before
    // this caller waited) is not passed on: that waiter finds its pending
    // wake-up at its next slice.
    if (*woke && TakeWakeUp(ticket)) {
      notified = true;
      break;
    }
  }
  const absl::Status relocked = lock_.Reacquire(depth);
  if (!notified) {
    // Under the lock again: a wake-up granted meanwhile is ours to take;
    // otherwise leave the waiting count, so no Notify is spent on us.
    if (TakeWakeUp(ticket)) {
      notified = true;
      (void)parts_->semaphore(0).Acquire(absl::InfinitePast());
    } else {
      s.waiting.fetch_sub(1);
    }
  }
  if (!error.ok()) return error;
  if (!relocked.ok()) return relocked;
  return notified;
}

absl::Status Condition::Notify(int64_t n) const {
  if (!lock_.HeldByCaller()) return NotHeld("notify");
  internal::ConditionState& s = state();
  const int64_t wake = std::min(n, s.waiting.load());
  if (wake <= 0) return absl::OkStatus();
  s.waiting.fetch_sub(wake);
  s.pending.fetch_add(wake);
  s.eligible_below.store(s.next_ticket.load());
  for (int64_t i = 0; i < wake; ++i) {
    if (absl::Status posted = parts_->semaphore(0).Release(); !posted.ok()) {
      return posted;
    }
  }
  // Keep the lock until the woken waiters have taken their wake-ups (they
  // do so without the lock), so a caller that waits after this Notify
  // cannot take one of their semaphore posts, as CPython's Condition does.
  // Bounded: a notified waiter may have died, or timed out and be waiting
  // for this lock to take its wake-up.
  const absl::Time give_up = ForkSafeNow() + kNotifyPatience;
  while (s.pending.load() > 0 && ForkSafeNow() < give_up) {
    std::this_thread::yield();
  }
  return absl::OkStatus();
}

absl::StatusOr<Condition> Codec<Condition>::Decode(ByteReader& in) {
  absl::StatusOr<internal::LockCore> lock = internal::LockCore::Decode(in);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<std::shared_ptr<const internal::SharedParts>> parts =
      internal::DecodeSharedParts(in);
  if (!parts.ok()) return parts.status();
  if ((*parts)->memory->bytes().size() < sizeof(internal::ConditionState) ||
      (*parts)->semaphores.size() != 1) {
    return absl::InvalidArgumentError(
        "malformed launch request: not a Condition's shared state");
  }
  return Condition(*std::move(lock), *std::move(parts));
}

}  // namespace mproc
