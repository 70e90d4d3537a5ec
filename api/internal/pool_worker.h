// -----------------------------------------------------------------------------
// File: api/internal/pool_worker.h
// -----------------------------------------------------------------------------
//
// Internal: what a Pool worker runs, the registered target
// "mproc.PoolWorker" (docs/design.md §12).

#ifndef MPROC_API_INTERNAL_POOL_WORKER_H_
#define MPROC_API_INTERNAL_POOL_WORKER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/codec.h"
#include "api/pipe.h"
#include "api/shared_object.h"
#include "api/target.h"

namespace mproc::internal {

// PoolOptions::initializer as an argument of the worker's target. A
// registered call travels as its name, its encoded arguments and its OS
// objects, recorded again in the worker's own handover table; a closure
// (posix:fork, thread only) travels in memory and encodes as "none".
struct WorkerInitializer {
  TargetCall call;  // empty: no initializer
  // The call's own handover table, rebuilt by Decode (empty when encoded
  // and run in the same memory: the call's arguments are in its closure).
  std::vector<std::shared_ptr<SharedObject>> table;

  // Runs the call. Errors: what it returns, "returned exit code N" as
  // `kFailedPrecondition`, an exception's text as `kUnknown`.
  [[nodiscard]] absl::Status Run() const;
};

// Serves task frames from `connection` until a stop frame or its end of
// stream (then OK), or until it has run `max_tasks` items (> 0) after a
// batch. Accepts functions by address only when `by_address` (the worker
// shares or copies its pool's memory). An item that fails, throws or names
// an unknown function is that item's error; the worker goes on.
//
// First runs `initializer`; if it fails, reports the error to the pool (a
// result frame for batch 0) and returns it.
[[nodiscard]] absl::Status RunPoolWorker(WorkerInitializer initializer,
                                         Connection connection,
                                         int64_t max_tasks, bool by_address);

}  // namespace mproc::internal

namespace mproc {

template <>
struct Codec<internal::WorkerInitializer> {
  static void Encode(const internal::WorkerInitializer& initializer,
                     ByteWriter& out);
  [[nodiscard]] static absl::StatusOr<internal::WorkerInitializer> Decode(
      ByteReader& in);
};

}  // namespace mproc

#endif  // MPROC_API_INTERNAL_POOL_WORKER_H_
