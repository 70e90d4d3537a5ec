// -----------------------------------------------------------------------------
// File: api/internal/handover.h
// -----------------------------------------------------------------------------
//
// Internal: the handover table. OS objects (api/backend.h SharedObject) reach
// a child through its target arguments: while `Target()` encodes the
// arguments, a HandoverCollector is active on the calling thread, and a
// Codec that carries an OS object calls `RecordHandover`, which appends the
// object to the table and returns its index; the Codec encodes the index.
// The table travels with the TargetCall into LaunchRequest::handovers; the
// backend hands it to the child, whose Codecs find the objects again by
// index with `HandedOver`.

#ifndef MPROC_API_INTERNAL_HANDOVER_H_
#define MPROC_API_INTERNAL_HANDOVER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "api/shared_object.h"

namespace mproc::internal {

// The index encoded when no collector is active (an OS object encoded
// outside Target(), e.g. into a Manager list): decoding it is an error.
inline constexpr uint64_t kNotHandedOver = ~uint64_t{0};

// HandoverCollector
//
// Collects the objects recorded on this thread while it lives. Nests (an
// inner collector hides the outer one until it ends).
class HandoverCollector {
 public:
  HandoverCollector();
  ~HandoverCollector();
  HandoverCollector(const HandoverCollector&) = delete;
  HandoverCollector& operator=(const HandoverCollector&) = delete;

  // The objects recorded so far, in order; leaves the collector empty.
  std::vector<std::shared_ptr<SharedObject>> Take() {
    return std::move(objects_);
  }

 private:
  friend uint64_t RecordHandover(std::shared_ptr<SharedObject> object);
  HandoverCollector* previous_;
  std::vector<std::shared_ptr<SharedObject>> objects_;
};

// Records `object` in the active collector and returns its index (the same
// index for an object recorded twice), or kNotHandedOver when none is
// active.
uint64_t RecordHandover(std::shared_ptr<SharedObject> object);

// ScopedHandoverTable
//
// While it lives, HandedOver on this thread reads `table` instead of the
// process's launch table. For a call encoded inside another call's
// arguments (a Pool's initializer inside its worker's launch): its objects
// were recorded again in the outer table, and the decoder rebuilds the inner
// table from there. Nests.
class ScopedHandoverTable {
 public:
  explicit ScopedHandoverTable(
      const std::vector<std::shared_ptr<SharedObject>>& table);
  ~ScopedHandoverTable();
  ScopedHandoverTable(const ScopedHandoverTable&) = delete;
  ScopedHandoverTable& operator=(const ScopedHandoverTable&) = delete;

 private:
  const std::vector<std::shared_ptr<SharedObject>>* previous_;
};

// The object at `index` of the handover table the calling process (or
// thread-backend child) was launched with (or of the innermost
// ScopedHandoverTable on this thread). `kInvalidArgument` for
// kNotHandedOver ("can only be passed to a child as a target argument") or
// an index out of the table.
[[nodiscard]] absl::StatusOr<std::shared_ptr<SharedObject>> HandedOver(
    uint64_t index);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_HANDOVER_H_
