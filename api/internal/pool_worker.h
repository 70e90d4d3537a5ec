// -----------------------------------------------------------------------------
// File: api/internal/pool_worker.h
// -----------------------------------------------------------------------------
//
// Internal: what a Pool worker runs, the registered target
// "mproc.PoolWorker" (docs/design.md §12).

#ifndef MPROC_API_INTERNAL_POOL_WORKER_H_
#define MPROC_API_INTERNAL_POOL_WORKER_H_

#include <cstdint>

#include "absl/status/status.h"
#include "api/pipe.h"

namespace mproc::internal {

// Serves task frames from `connection` until a stop frame or its end of
// stream (then OK), or until it has run `max_tasks` items (> 0) after a
// batch. Accepts functions by address only when `by_address` (the worker
// shares or copies its pool's memory). An item that fails, throws or names
// an unknown function is that item's error; the worker goes on.
[[nodiscard]] absl::Status RunPoolWorker(Connection connection,
                                         int64_t max_tasks, bool by_address);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_POOL_WORKER_H_
