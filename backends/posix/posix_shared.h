// -----------------------------------------------------------------------------
// File: backends/posix/posix_shared.h
// -----------------------------------------------------------------------------
//
// POSIX only: the shared-state facilities of api/shared_object.h. Both are a
// shared mapping of one descriptor (memfd_create on Linux; shm_open and an
// immediate shm_unlink where memfd_create is missing), so both are handed to
// a child the same way: fork keeps the descriptor (the mapping is inherited),
// spawn dup2s it onto a numbered descriptor (spawn_protocol.h) and the child
// maps it again. A semaphore is a process-shared sem_t in its own mapping.
// The descriptor is O_CLOEXEC and registered (posix_fd.h), so children that
// are not handed the object do not keep it; the memory is released when the
// last process holding the descriptor or a mapping lets go of it.

#ifndef MPROC_BACKENDS_POSIX_POSIX_SHARED_H_
#define MPROC_BACKENDS_POSIX_POSIX_SHARED_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "api/shared_object.h"

namespace mproc::posix {

// The posix side of a handover object: what to pass to a child.
class PosixShared {
 public:
  // kChannel: a channel end (posix_channel.h), a socket with no mapping.
  enum class Kind : uint8_t { kMemory = 0, kSemaphore = 1, kChannel = 2 };
  static constexpr Kind kLastKind = Kind::kChannel;

  virtual ~PosixShared() = default;
  virtual Kind kind() const = 0;
  // The mapped size, which the child maps again (0 for a channel end).
  virtual size_t size() const = 0;
  // The descriptor to hand over; -1 in a forked child that was not handed it.
  virtual int fd() const = 0;
  // In a forked child that kept fd() (CloseInheritedDescriptors): owns it.
  virtual void AdoptInForkedChild() = 0;
};

// A new SharedMemory of `size` bytes (api/backend.h CreateSharedMemory).
[[nodiscard]] absl::StatusOr<std::shared_ptr<SharedMemory>>
CreatePosixSharedMemory(size_t size);

// A new process-shared semaphore with count `initial`.
[[nodiscard]] absl::StatusOr<std::shared_ptr<OsSemaphore>> CreatePosixSemaphore(
    uint32_t initial);

// In a spawned child: rebuilds the object of `kind` and `size` from the
// inherited descriptor `fd` (which it then owns). `kInvalidArgument` when the
// descriptor is not a shared mapping of at least `size` bytes (a socket, for
// a channel end).
[[nodiscard]] absl::StatusOr<std::shared_ptr<SharedObject>> AdoptPosixShared(
    PosixShared::Kind kind, int fd, size_t size);

// The posix views of `objects` (LaunchRequest::handovers), same order.
// `kInvalidArgument` for an object another backend made;
// `kFailedPrecondition` for one this process does not hold (a channel end
// closed here, or an object that reached a forked process in a closure).
[[nodiscard]] absl::StatusOr<std::vector<PosixShared*>> PosixHandovers(
    const std::vector<std::shared_ptr<SharedObject>>& objects);

// api/backend.h IsProcessAlive: false once `pid` has ended, zombie or not
// (its pidfd polls readable), or does not exist. Without pidfds: kill(pid, 0),
// and for a child of this process waitid(WNOWAIT); another process's zombie
// counts as alive until its parent reaps it.
bool IsPosixProcessAlive(int64_t pid);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_POSIX_SHARED_H_
