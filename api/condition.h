// -----------------------------------------------------------------------------
// File: api/condition.h
// -----------------------------------------------------------------------------
//
// Condition shared by processes, as CPython's multiprocessing.Condition: a
// lock (an RLock unless you give one) plus waiting for a notification.
//
//   ASSERT_OK(cond.Acquire().status());
//   absl::StatusOr<bool> ok = cond.WaitFor([&] { return ready(); });
//   (void)cond.Release();
//
// A copyable handle on shared state; passed to children as a target
// argument. Wait is a cancellation point on the thread backend. Notify(n)
// wakes at most n of the callers already waiting; a waiter that timed out
// does not use up a notification.

#ifndef MPROC_API_CONDITION_H_
#define MPROC_API_CONDITION_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/codec.h"
#include "api/context.h"
#include "api/fork_safety.h"
#include "api/internal/lock_core.h"
#include "api/internal/shared_parts.h"
#include "api/lock.h"

namespace mproc {

namespace internal {
// Waiters take tickets; Notify moves up to n of them from `waiting` to
// `pending` and makes every ticket below `eligible_below` eligible to take a
// pending wake-up. All written under the condition's lock, except `pending`,
// which eligible waiters decrement without it.
struct alignas(64) ConditionState {
  std::atomic<uint64_t> next_ticket{0};
  std::atomic<uint64_t> eligible_below{0};
  std::atomic<int64_t> waiting{0};
  std::atomic<int64_t> pending{0};
};
}  // namespace internal

class Condition {
 public:
  // A new Condition with a new RLock. Errors: the backend's.
  [[nodiscard]] static absl::StatusOr<Condition> Create(const Context& ctx);
  // A new Condition using `lock` (shared with whoever holds the same lock).
  [[nodiscard]] static absl::StatusOr<Condition> Create(const Context& ctx,
                                                        const Lock& lock);
  [[nodiscard]] static absl::StatusOr<Condition> Create(const Context& ctx,
                                                        const RLock& lock);

  // The lock's Acquire and Release (see api/lock.h).
  [[nodiscard]] absl::StatusOr<bool> Acquire(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    return lock_.Acquire(internal::DeadlineOf(timeout));
  }
  [[nodiscard]] absl::Status Release() const { return lock_.Release(); }

  // With the lock held: releases it, waits for a Notify or `timeout`, and
  // takes the lock again (all of an RLock's depth). true: notified; false:
  // the timeout passed. kFailedPrecondition ("cannot wait on un-acquired
  // lock") without the lock; kAborted when the lock's holder died meanwhile
  // (the caller holds the lock again).
  [[nodiscard]] absl::StatusOr<bool> Wait(
      absl::Duration timeout = absl::InfiniteDuration()) const;

  // With the lock held: waits until `predicate()` holds (checked first, and
  // after each wake-up, with the lock held) or `timeout` passes. Returns the
  // predicate's last value. Errors as Wait.
  template <typename Predicate>
  [[nodiscard]] absl::StatusOr<bool> WaitFor(
      Predicate predicate,
      absl::Duration timeout = absl::InfiniteDuration()) const {
    const absl::Time deadline = internal::DeadlineOf(timeout);
    bool result = predicate();
    while (!result) {
      const absl::Time now = ForkSafeNow();
      if (deadline != absl::InfiniteFuture() && now >= deadline) break;
      absl::StatusOr<bool> woke =
          Wait(deadline == absl::InfiniteFuture() ? absl::InfiniteDuration()
                                                  : deadline - now);
      if (!woke.ok()) return woke.status();
      result = predicate();
    }
    return result;
  }

  // With the lock held: wakes up to `n` waiters (kFailedPrecondition, "cannot
  // notify on un-acquired lock", without it). Errors: the OS's.
  [[nodiscard]] absl::Status Notify(int64_t n = 1) const;
  [[nodiscard]] absl::Status NotifyAll() const {
    return Notify(std::numeric_limits<int64_t>::max());
  }

 private:
  friend struct Codec<Condition>;
  friend class Barrier;
  Condition(internal::LockCore lock,
            std::shared_ptr<const internal::SharedParts> parts)
      : lock_(std::move(lock)), parts_(std::move(parts)) {}
  [[nodiscard]] static absl::StatusOr<Condition> WithLock(
      const Context& ctx, internal::LockCore lock);
  internal::ConditionState& state() const {
    return internal::StateOf<internal::ConditionState>(*parts_);
  }
  // Takes one pending wake-up if `ticket` may.
  bool TakeWakeUp(uint64_t ticket) const;

  internal::LockCore lock_;
  std::shared_ptr<const internal::SharedParts> parts_;
};

template <>
struct Codec<Condition> {
  static void Encode(const Condition& c, ByteWriter& out) {
    c.lock_.Encode(out);
    internal::EncodeSharedParts(*c.parts_, out);
  }
  [[nodiscard]] static absl::StatusOr<Condition> Decode(ByteReader& in);
};

}  // namespace mproc

#endif  // MPROC_API_CONDITION_H_
