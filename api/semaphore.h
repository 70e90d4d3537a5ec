// -----------------------------------------------------------------------------
// File: api/semaphore.h
// -----------------------------------------------------------------------------
//
// Semaphore and BoundedSemaphore shared by processes, as CPython's
// multiprocessing.Semaphore and BoundedSemaphore. Copyable handles on one
// counter in shared memory; passed to children as target arguments. An
// Acquire that finds the count positive, and a Release nobody waits for,
// stay in user space. A blocked Acquire is a cancellation point on the thread
// backend.

#ifndef MPROC_API_SEMAPHORE_H_
#define MPROC_API_SEMAPHORE_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/codec.h"
#include "api/context.h"
#include "api/internal/shared_parts.h"

namespace mproc {

namespace internal {

struct alignas(64) SemaphoreState {
  std::atomic<int64_t> count{0};
  std::atomic<uint32_t> waiters{0};
  int64_t bound = -1;  // the most Release may raise the count to; -1: none
};
static_assert(std::atomic<int64_t>::is_always_lock_free);

class SemaphoreCore {
 public:
  [[nodiscard]] static absl::StatusOr<SemaphoreCore> Create(Backend& backend,
                                                            int64_t value,
                                                            int64_t bound);
  [[nodiscard]] absl::StatusOr<bool> Acquire(absl::Time deadline) const;
  [[nodiscard]] absl::Status Release() const;
  int64_t value() const { return state().count.load(); }

  void Encode(ByteWriter& out) const { EncodeSharedParts(*parts_, out); }
  [[nodiscard]] static absl::StatusOr<SemaphoreCore> Decode(ByteReader& in);

 private:
  explicit SemaphoreCore(std::shared_ptr<const SharedParts> parts)
      : parts_(std::move(parts)) {}
  SemaphoreState& state() const { return StateOf<SemaphoreState>(*parts_); }
  bool TryTake() const;

  std::shared_ptr<const SharedParts> parts_;
};

}  // namespace internal

// Semaphore
//
// A counter that Acquire decrements (waiting while it is 0) and Release
// increments.
class Semaphore {
 public:
  // A new semaphore with count `value` (>= 0; kInvalidArgument otherwise).
  // Other errors: the backend's.
  [[nodiscard]] static absl::StatusOr<Semaphore> Create(const Context& ctx,
                                                        int64_t value = 1) {
    absl::StatusOr<internal::SemaphoreCore> core =
        internal::SemaphoreCore::Create(ctx.backend(), value, /*bound=*/-1);
    if (!core.ok()) return core.status();
    return Semaphore(*std::move(core));
  }

  // Decrements the count, waiting up to `timeout` for it to be positive
  // (InfiniteDuration: for ever; zero or less: not at all). true: done;
  // false: the timeout passed (not an error). Errors: the OS's.
  [[nodiscard]] absl::StatusOr<bool> Acquire(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    return core_.Acquire(internal::DeadlineOf(timeout));
  }

  // Increments the count, waking one waiter. kOutOfRange past INT64_MAX.
  [[nodiscard]] absl::Status Release() const { return core_.Release(); }

  // The count now (CPython's get_value; a snapshot).
  int64_t GetValue() const { return core_.value(); }

 protected:
  explicit Semaphore(internal::SemaphoreCore core) : core_(std::move(core)) {}

 private:
  friend struct Codec<Semaphore>;
  friend class BoundedSemaphore;
  friend struct Codec<class BoundedSemaphore>;
  internal::SemaphoreCore core_;
};

// BoundedSemaphore
//
// A Semaphore whose count may never exceed its initial value.
class BoundedSemaphore : public Semaphore {
 public:
  // A new semaphore with count and bound `value` (>= 0).
  [[nodiscard]] static absl::StatusOr<BoundedSemaphore> Create(
      const Context& ctx, int64_t value = 1) {
    absl::StatusOr<internal::SemaphoreCore> core =
        internal::SemaphoreCore::Create(ctx.backend(), value, value);
    if (!core.ok()) return core.status();
    return BoundedSemaphore(*std::move(core));
  }

  // As Semaphore::Release; kFailedPrecondition ("semaphore or lock released
  // too many times") when the count is already at its bound.

 private:
  friend struct Codec<BoundedSemaphore>;
  explicit BoundedSemaphore(internal::SemaphoreCore core)
      : Semaphore(std::move(core)) {}
};

template <>
struct Codec<Semaphore> {
  static void Encode(const Semaphore& s, ByteWriter& out) {
    s.core_.Encode(out);
  }
  [[nodiscard]] static absl::StatusOr<Semaphore> Decode(ByteReader& in) {
    absl::StatusOr<internal::SemaphoreCore> core =
        internal::SemaphoreCore::Decode(in);
    if (!core.ok()) return core.status();
    return Semaphore(*std::move(core));
  }
};

template <>
struct Codec<BoundedSemaphore> {
  static void Encode(const BoundedSemaphore& s, ByteWriter& out) {
    s.core_.Encode(out);
  }
  [[nodiscard]] static absl::StatusOr<BoundedSemaphore> Decode(ByteReader& in) {
    absl::StatusOr<internal::SemaphoreCore> core =
        internal::SemaphoreCore::Decode(in);
    if (!core.ok()) return core.status();
    return BoundedSemaphore(*std::move(core));
  }
};

}  // namespace mproc

#endif  // MPROC_API_SEMAPHORE_H_
