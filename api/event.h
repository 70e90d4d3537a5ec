// -----------------------------------------------------------------------------
// File: api/event.h
// -----------------------------------------------------------------------------
//
// Event shared by processes, as CPython's multiprocessing.Event: a flag that
// Set raises, Clear lowers, and Wait waits for. A copyable handle on one flag
// in shared memory, passed to children as a target argument. IsSet, Set with
// nobody waiting, Clear, and Wait on a raised flag stay in user space. A
// blocked Wait is a cancellation point on the thread backend.

#ifndef MPROC_API_EVENT_H_
#define MPROC_API_EVENT_H_

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
struct alignas(64) EventState {
  std::atomic<uint32_t> flag{0};
  std::atomic<uint32_t> waiters{0};
  std::atomic<uint64_t> generation{0};  // +1 per Set
};
}  // namespace internal

class Event {
 public:
  // A new Event, not set. Errors: the backend's.
  [[nodiscard]] static absl::StatusOr<Event> Create(const Context& ctx);

  // True when the flag is raised.
  bool IsSet() const;
  // Raises the flag and wakes every waiter. Errors: the OS's.
  [[nodiscard]] absl::Status Set() const;
  // Lowers the flag.
  void Clear() const;
  // Returns true once the flag is raised (or was raised while waiting),
  // false when `timeout` passes first (not an error). InfiniteDuration:
  // waits for ever; zero or less: does not wait. Errors: the OS's.
  [[nodiscard]] absl::StatusOr<bool> Wait(
      absl::Duration timeout = absl::InfiniteDuration()) const;

 private:
  friend struct Codec<Event>;
  explicit Event(std::shared_ptr<const internal::SharedParts> parts)
      : parts_(std::move(parts)) {}
  internal::EventState& state() const {
    return internal::StateOf<internal::EventState>(*parts_);
  }
  std::shared_ptr<const internal::SharedParts> parts_;
};

template <>
struct Codec<Event> {
  static void Encode(const Event& event, ByteWriter& out) {
    internal::EncodeSharedParts(*event.parts_, out);
  }
  [[nodiscard]] static absl::StatusOr<Event> Decode(ByteReader& in);
};

}  // namespace mproc

#endif  // MPROC_API_EVENT_H_
