// -----------------------------------------------------------------------------
// File: backends/thread/thread_child.h
// -----------------------------------------------------------------------------
//
// Thread backend only: one child running on a std::thread.

#ifndef MPROC_BACKENDS_THREAD_THREAD_CHILD_H_
#define MPROC_BACKENDS_THREAD_THREAD_CHILD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "api/backend.h"

namespace mproc::thread {

// Launches `request` on a new thread with synthetic pid `pid`.
// `kResourceExhausted` when the system refuses another thread.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Child>> LaunchThreadChild(
    Backend* backend, const LaunchRequest& request, int64_t pid);

}  // namespace mproc::thread

#endif  // MPROC_BACKENDS_THREAD_THREAD_CHILD_H_
