// -----------------------------------------------------------------------------
// File: api/internal/shared_parts.h
// -----------------------------------------------------------------------------
//
// Internal: the OS objects behind one shared-state primitive (api/lock.h,
// api/event.h, ...): one SharedMemory holding its state words and the
// OsSemaphores its waiters sleep on, plus the backend that tells whether a
// holder is alive. Primitives are copyable handles on one SharedParts; their
// Codecs encode it as handover indexes (api/internal/handover.h).

#ifndef MPROC_API_INTERNAL_SHARED_PARTS_H_
#define MPROC_API_INTERNAL_SHARED_PARTS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/backend.h"
#include "api/wire.h"

namespace mproc::internal {

struct SharedParts {
  Backend* backend = nullptr;
  std::shared_ptr<SharedMemory> memory;
  std::vector<std::shared_ptr<OsSemaphore>> semaphores;

  std::byte* base() const { return memory->bytes().data(); }
  OsSemaphore& semaphore(size_t i) const { return *semaphores[i]; }
};

// Creates `bytes` of shared memory (zero-filled) and `semaphores`
// semaphores with count 0 through `backend`.
[[nodiscard]] absl::StatusOr<std::shared_ptr<const SharedParts>>
CreateSharedParts(Backend& backend, size_t bytes, size_t semaphores);

// Constructs a `State` at the start of freshly created `parts` (which must be
// large enough) and returns it.
template <typename State, typename... Args>
State& ConstructState(const SharedParts& parts, Args&&... args) {
  return *new (parts.base()) State(std::forward<Args>(args)...);
}

// The `State` at the start of `parts`' memory.
template <typename State>
State& StateOf(const SharedParts& parts) {
  return *std::launder(reinterpret_cast<State*>(parts.base()));
}

// Records the parts in the active handover table and writes their indexes.
void EncodeSharedParts(const SharedParts& parts, ByteWriter& out);
// Finds the parts again in the calling process's handover table.
// `kInvalidArgument` when they were not handed over (or are malformed).
[[nodiscard]] absl::StatusOr<std::shared_ptr<const SharedParts>>
DecodeSharedParts(ByteReader& in);

// Who holds a lock: the calling process's pid (high 32 bits) and a number
// for the calling thread (low 32 bits, never 0). Never 0.
uint64_t CallerToken();
inline int64_t PidOfToken(uint64_t token) {
  return static_cast<int64_t>(token >> 32);
}
// The calling process's pid as mproc knows it (synthetic for thread
// children).
int64_t CallerPid();

// Sleeps on `semaphore` until it can be decremented (true) or `deadline`
// (false). A cancelled thread-backend child unwinds from here (throws
// ProcessCancelled); other errors are returned.
[[nodiscard]] absl::StatusOr<bool> SleepOn(OsSemaphore& semaphore,
                                           absl::Time deadline);

// The absolute deadline of `timeout` from now: InfiniteFuture for an
// infinite one, InfinitePast for zero or less (try once).
absl::Time DeadlineOf(absl::Duration timeout);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_SHARED_PARTS_H_
