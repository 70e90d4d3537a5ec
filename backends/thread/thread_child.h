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
#include <system_error>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "api/backend.h"

namespace mproc::thread {

// Launches `request` on a new thread with synthetic pid `pid`. When the
// system refuses another thread: ThreadStartError's status.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Child>> LaunchThreadChild(
    Backend* backend, const LaunchRequest& request, int64_t pid);

// True once the child `child` (from LaunchThreadChild) has ended: its
// RunChild has returned. `kInvalidArgument` for another backend's Child.
[[nodiscard]] absl::StatusOr<bool> ThreadChildEnded(Child& child);

// True while the child with synthetic pid `pid` runs its target and exit
// rules (api/backend.h IsProcessAlive); false once RunChild has returned.
bool IsThreadChildRunning(int64_t pid);

// The status for std::thread's refusal `error` to start the thread of process
// `name`: the code the one mapping gives its errno (EAGAIN, std::thread's
// resource_unavailable_try_again -> kUnavailable, as on every backend), and a
// message saying what to do.
[[nodiscard]] absl::Status ThreadStartError(const std::system_error& error,
                                            absl::string_view name);

}  // namespace mproc::thread

#endif  // MPROC_BACKENDS_THREAD_THREAD_CHILD_H_
