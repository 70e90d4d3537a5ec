// -----------------------------------------------------------------------------
// File: api/lock.h
// -----------------------------------------------------------------------------
//
// Lock and RLock shared by processes, as CPython's multiprocessing.Lock and
// RLock:
//
//   absl::StatusOr<mproc::Lock> lock = mproc::Lock::Create(ctx);
//   ctx.NewProcess(mproc::Target(&Work, *lock)) ... Start
//   if (absl::StatusOr<bool> got = lock->Acquire(); got.ok() && *got) {
//     ...; (void)lock->Release();
//   }
//
// Both are cheap, copyable handles on one lock in shared memory (copies are
// the same lock), passed to children as target arguments (or captured by a
// closure on posix:fork and thread). Uncontended Acquire and Release stay in
// user space; a waiter sleeps on an OS semaphore (docs/design.md, "Shared
// state"). A blocked Acquire is a cancellation point on the thread backend.
//
// Unlike CPython, a holder that dies is not a deadlock: when the process (or
// thread-backend child) holding the lock ends without releasing it, the next
// Acquire that waits gets the lock *and* `kAborted` saying so (as a robust
// mutex's EOWNERDEAD). Detection takes up to about 200 ms of waiting.

#ifndef MPROC_API_LOCK_H_
#define MPROC_API_LOCK_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/codec.h"
#include "api/context.h"
#include "api/internal/lock_core.h"

namespace mproc {

// Lock
//
// A non-recursive lock. Any thread or process may Release it (as CPython's
// multiprocessing.Lock); acquiring it twice from one thread waits for ever
// (or until the timeout).
class Lock {
 public:
  // A new, unlocked Lock whose holders are children of `ctx`'s backend.
  // Errors: the backend's (no memory or descriptors: kResourceExhausted).
  [[nodiscard]] static absl::StatusOr<Lock> Create(const Context& ctx) {
    absl::StatusOr<internal::LockCore> core =
        internal::LockCore::Create(ctx.backend(), /*recursive=*/false);
    if (!core.ok()) return core.status();
    return Lock(*std::move(core));
  }

  // Takes the lock, waiting up to `timeout` (InfiniteDuration: for ever;
  // zero or less: not at all). true: taken; false: the timeout passed (not
  // an error, as CPython). kAborted: its holder died; the caller now holds
  // the lock (check what it guarded, then Release). Other errors: the OS's.
  [[nodiscard]] absl::StatusOr<bool> Acquire(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    return core_.Acquire(internal::DeadlineOf(timeout));
  }

  // Frees the lock. kFailedPrecondition ("semaphore or lock released too
  // many times") when it is not held.
  [[nodiscard]] absl::Status Release() const { return core_.Release(); }

 private:
  friend struct Codec<Lock>;
  friend class Condition;
  explicit Lock(internal::LockCore core) : core_(std::move(core)) {}
  internal::LockCore core_;
};

// RLock
//
// A recursive lock owned by one thread of one process: its owner may
// Acquire it again, and must Release it as many times.
class RLock {
 public:
  // A new, unlocked RLock. Errors as Lock::Create.
  [[nodiscard]] static absl::StatusOr<RLock> Create(const Context& ctx) {
    absl::StatusOr<internal::LockCore> core =
        internal::LockCore::Create(ctx.backend(), /*recursive=*/true);
    if (!core.ok()) return core.status();
    return RLock(*std::move(core));
  }

  // As Lock::Acquire; the owner's Acquire returns true at once.
  [[nodiscard]] absl::StatusOr<bool> Acquire(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    return core_.Acquire(internal::DeadlineOf(timeout));
  }

  // Undoes one Acquire of the calling thread. kFailedPrecondition ("attempt
  // to release recursive lock not owned by thread") when the caller is not
  // the owner.
  [[nodiscard]] absl::Status Release() const { return core_.Release(); }

  // True when the calling thread owns it.
  bool HeldByCaller() const { return core_.HeldByCaller(); }

 private:
  friend struct Codec<RLock>;
  friend class Condition;
  explicit RLock(internal::LockCore core) : core_(std::move(core)) {}
  internal::LockCore core_;
};

template <>
struct Codec<Lock> {
  static void Encode(const Lock& lock, ByteWriter& out) {
    lock.core_.Encode(out);
  }
  [[nodiscard]] static absl::StatusOr<Lock> Decode(ByteReader& in) {
    absl::StatusOr<internal::LockCore> core = internal::LockCore::Decode(in);
    if (!core.ok()) return core.status();
    return Lock(*std::move(core));
  }
};

template <>
struct Codec<RLock> {
  static void Encode(const RLock& lock, ByteWriter& out) {
    lock.core_.Encode(out);
  }
  [[nodiscard]] static absl::StatusOr<RLock> Decode(ByteReader& in) {
    absl::StatusOr<internal::LockCore> core = internal::LockCore::Decode(in);
    if (!core.ok()) return core.status();
    return RLock(*std::move(core));
  }
};

}  // namespace mproc

#endif  // MPROC_API_LOCK_H_
