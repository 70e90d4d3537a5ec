// -----------------------------------------------------------------------------
// File: api/internal/lock_core.h
// -----------------------------------------------------------------------------
//
// Internal: the one lock behind Lock, RLock, Condition, Value and Array.
//
// State (in shared memory): `owner`, the CallerToken of the holder or 0;
// `waiters`, how many callers sleep on the semaphore; `depth`, the recursion
// depth of an RLock (touched by its owner only). Acquire is one CAS on
// `owner` when the lock is free; Release one exchange and, only when someone
// sleeps, a semaphore post. A sleeper wakes at least every 200 ms and asks
// the backend whether the holder's process is alive; when it is not, the
// sleeper takes the lock over and reports kAborted (it holds the lock).
//
// Known limits: a *waiter* that dies leaves `waiters` counted, so every later
// Release posts the semaphore (correct, but no longer kernel-free); a dead
// holder's pid reused by a new process looks alive (then only a timeout
// helps).

#ifndef MPROC_API_INTERNAL_LOCK_CORE_H_
#define MPROC_API_INTERNAL_LOCK_CORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/backend.h"
#include "api/internal/shared_parts.h"
#include "api/wire.h"

namespace mproc::internal {

struct alignas(64) LockState {
  std::atomic<uint64_t> owner{0};
  std::atomic<uint32_t> waiters{0};
  uint32_t depth = 0;
};
static_assert(std::atomic<uint64_t>::is_always_lock_free &&
                  std::atomic<uint32_t>::is_always_lock_free,
              "shared-state primitives need lock-free atomics: a lock inside "
              "an atomic would be process-local");

class LockCore {
 public:
  [[nodiscard]] static absl::StatusOr<LockCore> Create(Backend& backend,
                                                       bool recursive);
  // A non-recursive lock whose LockState lives at `offset` in `parts`'
  // memory (constructed there by the caller) and whose sleepers use
  // semaphore `semaphore`: for a primitive that keeps its lock in its own
  // state block (Queue). Not encodable on its own: its owner encodes
  // `parts`.
  static LockCore Embedded(std::shared_ptr<const SharedParts> parts,
                           size_t offset, size_t semaphore) {
    return LockCore(std::move(parts), /*recursive=*/false, offset, semaphore);
  }

  // One attempt, no wait and no takeover: true when acquired.
  bool TryAcquire() const;

  // true: acquired; false: `deadline` passed. kAborted: the holder died
  // and the caller now holds the lock. Throws ProcessCancelled when a
  // cancelled thread-backend child waits.
  [[nodiscard]] absl::StatusOr<bool> Acquire(absl::Time deadline) const;
  // kFailedPrecondition: not held (Lock), or not held by the caller (RLock).
  [[nodiscard]] absl::Status Release() const;
  // True when the calling thread holds it.
  bool HeldByCaller() const;
  bool recursive() const { return recursive_; }

  // For Condition: releases the caller's hold entirely and returns its
  // depth; then takes it again with that depth (kAborted as Acquire).
  uint32_t ReleaseAll() const;
  [[nodiscard]] absl::Status Reacquire(uint32_t depth) const;

  void Encode(ByteWriter& out) const;
  [[nodiscard]] static absl::StatusOr<LockCore> Decode(ByteReader& in);

 private:
  LockCore(std::shared_ptr<const SharedParts> parts, bool recursive,
           size_t offset = 0, size_t semaphore = 0)
      : parts_(std::move(parts)),
        recursive_(recursive),
        offset_(offset),
        semaphore_(semaphore) {}
  LockState& state() const {
    return *std::launder(
        reinterpret_cast<LockState*>(parts_->base() + offset_));
  }
  [[nodiscard]] absl::StatusOr<bool> AcquireSlow(uint64_t me,
                                                 absl::Time deadline) const;
  // Takes the lock from a holder that died; OK when not possible.
  [[nodiscard]] absl::Status TakeOverFromDead(uint64_t me, bool& taken) const;
  void Wake() const;

  std::shared_ptr<const SharedParts> parts_;
  bool recursive_;
  size_t offset_;     // of the LockState in parts_' memory
  size_t semaphore_;  // the index of the sleepers' semaphore in parts_
};

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_LOCK_CORE_H_
