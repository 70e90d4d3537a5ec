// -----------------------------------------------------------------------------
// File: api/barrier.h
// -----------------------------------------------------------------------------
//
// Barrier shared by processes, as CPython's multiprocessing.Barrier: `parties`
// callers meet; each Wait returns once all have arrived. A copyable handle,
// passed to children as a target argument.
//
// Broken barriers: a Wait that times out, Abort, Reset while callers wait,
// and a party that dies while waiting at the barrier (its process ends)
// break it; every waiter is then released with kAborted ("broken barrier")
// instead of waiting for ever, and so is every later Wait until Reset.
// (A party that dies before it reaches the barrier cannot be told from a
// slow one: give Wait a timeout.)

#ifndef MPROC_API_BARRIER_H_
#define MPROC_API_BARRIER_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/codec.h"
#include "api/condition.h"
#include "api/context.h"
#include "api/internal/shared_parts.h"

namespace mproc {

namespace internal {
// Guarded by the barrier's condition lock; followed in memory by `parties`
// pids (of the callers now waiting, in arrival order).
struct alignas(64) BarrierState {
  int64_t parties = 0;
  int64_t count = 0;  // waiting now
  uint64_t generation = 0;
  uint64_t reset_generation = ~uint64_t{0};  // the generation Reset broke
  bool broken = false;
};
}  // namespace internal

class Barrier {
 public:
  // A barrier for `parties` (1 to 1 << 20; kInvalidArgument otherwise).
  // Errors: the backend's.
  [[nodiscard]] static absl::StatusOr<Barrier> Create(const Context& ctx,
                                                      int64_t parties);

  // Waits for the other parties, up to `timeout` (which breaks the barrier
  // when it passes). Returns this caller's arrival index, 0 to parties-1.
  // kAborted ("broken barrier ...") when the barrier is or becomes broken.
  [[nodiscard]] absl::StatusOr<int64_t> Wait(
      absl::Duration timeout = absl::InfiniteDuration()) const;
  // Breaks the barrier: current and later Waits fail until Reset.
  [[nodiscard]] absl::Status Abort() const;
  // Back to its initial state; callers waiting now get kAborted.
  [[nodiscard]] absl::Status Reset() const;

  int64_t parties() const;
  // Callers waiting now; whether it is broken (snapshots).
  [[nodiscard]] absl::StatusOr<int64_t> NWaiting() const;
  [[nodiscard]] absl::StatusOr<bool> Broken() const;

 private:
  friend struct Codec<Barrier>;
  Barrier(Condition condition,
          std::shared_ptr<const internal::SharedParts> parts)
      : condition_(std::move(condition)), parts_(std::move(parts)) {}
  internal::BarrierState& state() const {
    return internal::StateOf<internal::BarrierState>(*parts_);
  }
  int64_t* waiting_pids() const;
  // Takes the condition's lock; a holder that died breaks the barrier.
  [[nodiscard]] absl::Status Lock() const;
  void Break() const;

  Condition condition_;
  std::shared_ptr<const internal::SharedParts> parts_;
};

template <>
struct Codec<Barrier> {
  static void Encode(const Barrier& b, ByteWriter& out) {
    Codec<Condition>::Encode(b.condition_, out);
    internal::EncodeSharedParts(*b.parts_, out);
  }
  [[nodiscard]] static absl::StatusOr<Barrier> Decode(ByteReader& in);
};

}  // namespace mproc

#endif  // MPROC_API_BARRIER_H_
