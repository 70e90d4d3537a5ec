// -----------------------------------------------------------------------------
// File: api/shared_object.h
// -----------------------------------------------------------------------------
//
// Part of the porting interface (api/backend.h): the two OS facilities that
// shared state is built from, and the base of every OS object a target
// argument can carry to a child. A backend makes them in
// Backend::CreateSharedMemory and Backend::CreateOsSemaphore; api/ builds Lock,
// Event, Value, ... from them (docs/design.md, "Shared state").

#ifndef MPROC_API_SHARED_OBJECT_H_
#define MPROC_API_SHARED_OBJECT_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gsl/span"

namespace mproc {

// SharedObject
//
// An OS object that a target argument can carry to a child (a handover):
// SharedMemory or OsSemaphore. Its Codec records it in the launch's handover
// table (`LaunchRequest::handovers`, in api/internal/handover.h) and encodes
// its index there; the backend hands every object of the table to the child,
// which finds it at the same index in `ChildRuntime::handovers`. The object
// lives as long as any process holds it (its last holder's end releases it:
// no file, name or handle outlives the program).
class SharedObject {
 public:
  virtual ~SharedObject() = default;

 protected:
  SharedObject() = default;
  SharedObject(const SharedObject&) = delete;
  SharedObject& operator=(const SharedObject&) = delete;
};

// SharedMemory
//
// A region of bytes mapped into every process that holds it (posix:
// memfd_create or shm_open + shm_unlink, then mmap(MAP_SHARED); windows:
// CreateFileMappingW + MapViewOfFile; thread: one heap block). The region
// starts zero-filled, is aligned to at least 64 bytes, and stays mapped at
// the same size for the object's life (its address may differ per process).
class SharedMemory : public SharedObject {
 public:
  virtual gsl::span<std::byte> bytes() const = 0;
};

// OsSemaphore
//
// A counting semaphore shared by every process that holds it (posix: a
// process-shared sem_t in shared memory; windows: CreateSemaphoreW; thread:
// a mutex and a condition). Thread-safe. api/ keeps the fast paths in user
// space and calls it only to sleep and to wake sleepers.
class OsSemaphore : public SharedObject {
 public:
  // Waits until the count is positive, then decrements it and returns true;
  // returns false when `deadline` passes first (absl::InfinitePast() polls,
  // absl::InfiniteFuture() waits for ever). A cooperative backend returns
  // `kCancelled` when the calling child is cancelled (api/cancellation.h).
  // Other errors: the OS's (kInternal for a corrupt semaphore).
  [[nodiscard]] virtual absl::StatusOr<bool> Acquire(absl::Time deadline) = 0;
  // Increments the count, waking one waiter. `kOutOfRange` when the count
  // would exceed what the OS allows (posix: SEM_VALUE_MAX).
  [[nodiscard]] virtual absl::Status Release() = 0;
};

}  // namespace mproc

#endif  // MPROC_API_SHARED_OBJECT_H_
