// -----------------------------------------------------------------------------
// File: api/shared_object.h
// -----------------------------------------------------------------------------
//
// Part of the porting interface (api/backend.h): the OS objects a target
// argument can carry to a child. Two are what shared state is built from
// (Backend::CreateSharedMemory, Backend::CreateOsSemaphore; api/ builds Lock,
// Event, Value, ... from them: docs/design.md, "Shared state"), one is what
// message passing is built from (Backend::ChannelPair; api/ builds Pipe and
// Connection from it: docs/design.md, "Message passing").

#ifndef MPROC_API_SHARED_OBJECT_H_
#define MPROC_API_SHARED_OBJECT_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gsl/span"

namespace mproc {

// SharedObject
//
// An OS object that a target argument can carry to a child (a handover):
// SharedMemory, OsSemaphore or ChannelEnd. Its Codec records it in the launch's
// handover table (`LaunchRequest::handovers`, in api/internal/handover.h) and
// encodes its index there; the backend hands every object of the table to the
// child, which finds it at the same index in `ChildRuntime::handovers`. The
// object lives as long as any process holds it (its last holder's end releases
// it: no file, name or handle outlives the program).
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

// ChannelEnd
//
// One end of a connected pair of reliable, ordered byte streams
// (Backend::ChannelPair; posix: socketpair(AF_UNIX, SOCK_STREAM); windows: a
// named pipe pair; thread: an in-memory pipe each way). api/ frames messages
// on it (Pipe, Connection: api/pipe.h).
//
// An end behaves as a descriptor does: handing it to a child (a target
// argument) gives the child its own hold on the same end, and Close lets go
// of the calling process's hold only. The peer reads end-of-stream, and its
// writes fail with kUnavailable, once every process that held this end has
// closed it or ended (a process that dies lets go of its holds).
//
// Concurrency: api/ makes at most one WriteAll and at most one read
// (ReadSomeUntil or Backend::WaitReady) at a time per end and process, and
// calls Close only while none is in flight; Close does not have to wake a
// blocked call.
class ChannelEnd : public SharedObject {
 public:
  // Writes all of `bytes`, waiting while the stream is full. Errors:
  // `kUnavailable` when the peer end has been closed by every holder (never
  // a signal such as SIGPIPE); `kFailedPrecondition` when this process does
  // not hold the end (Close was called, or the end reached this forked
  // process inside a closure instead of as a target argument); `kCancelled`
  // on a cooperative backend when the calling child is cancelled; other OS
  // errors with their code.
  [[nodiscard]] virtual absl::Status WriteAll(absl::string_view bytes) = 0;

  // Reads at least one byte into `buffer` (not empty) and returns how many;
  // 0 at end-of-stream (the peer end has been closed by every holder and
  // everything it wrote has been read). Waits until `deadline`
  // (absl::InfiniteFuture(): for ever; absl::InfinitePast(): not at all),
  // then returns `kDeadlineExceeded` having read nothing. Other errors as
  // WriteAll's (`kUnavailable` is never returned: a peer that has gone is
  // end-of-stream).
  [[nodiscard]] virtual absl::StatusOr<size_t> ReadSomeUntil(
      gsl::span<char> buffer, absl::Time deadline) = 0;

  // Lets go of this process's hold on the end (closes its descriptor or
  // handle); the holds of other processes stay. Idempotent; the destructor
  // does it too. Afterwards WriteAll and ReadSomeUntil return
  // `kFailedPrecondition`, and so does handing the end to a child.
  virtual void Close() = 0;
};

}  // namespace mproc

#endif  // MPROC_API_SHARED_OBJECT_H_
