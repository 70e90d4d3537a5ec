// -----------------------------------------------------------------------------
// File: backends/thread/thread_shared.h
// -----------------------------------------------------------------------------
//
// Thread backend only: the shared-state facilities of api/shared_object.h.
// Children share the process, so shared memory is one heap block and a
// semaphore is a mutex, a count and a condition; handing one to a child is
// sharing the object. A blocked Acquire is a cancellation point: it returns
// kCancelled when the calling child is cancelled.

#ifndef MPROC_BACKENDS_THREAD_THREAD_SHARED_H_
#define MPROC_BACKENDS_THREAD_THREAD_SHARED_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "api/shared_object.h"

namespace mproc::thread {

[[nodiscard]] absl::StatusOr<std::shared_ptr<SharedMemory>>
CreateThreadSharedMemory(size_t size);

[[nodiscard]] absl::StatusOr<std::shared_ptr<OsSemaphore>>
CreateThreadSemaphore(uint32_t initial);

// `kInvalidArgument` when an object of `objects` was made by another
// backend.
[[nodiscard]] absl::Status CheckThreadHandovers(
    const std::vector<std::shared_ptr<SharedObject>>& objects);

// The shared objects that exist (for the resource probe).
int64_t OpenSharedObjectCount();

}  // namespace mproc::thread

#endif  // MPROC_BACKENDS_THREAD_THREAD_SHARED_H_
