// -----------------------------------------------------------------------------
// File: backends/posix/posix_fd.h
// -----------------------------------------------------------------------------
//
// POSIX only: descriptors mproc owns. Every one is opened O_CLOEXEC (so a
// spawned child never inherits it) and registered process-wide (so a forked
// child closes those that belong to its parent: other children's pidfds,
// Manager connections, listening sockets).
//
// A descriptor opened by another thread between open and registration, or
// closed after deregistration, may leak into a concurrent fork's child; it is
// only ever leaked there, never closed twice or closed in place of another.

#ifndef MPROC_BACKENDS_POSIX_POSIX_FD_H_
#define MPROC_BACKENDS_POSIX_POSIX_FD_H_

#include <sys/types.h>

#include "gsl/span"

namespace mproc::posix {

// Fd
//
// An owned, registered descriptor. Move-only. It is closed (and deregistered)
// by Reset or the destructor, and only in the process that owns it: a copy of
// this object that a forked child holds does nothing (the child has already
// closed the descriptor with CloseInheritedDescriptors) unless the child
// adopted it.
class Fd {
 public:
  Fd() = default;
  // Takes ownership of `fd` (>= 0) and registers it.
  explicit Fd(int fd);
  Fd(Fd&& other) noexcept;
  Fd& operator=(Fd&& other) noexcept;
  ~Fd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // True in the process that owns the descriptor (see the class comment).
  bool owned_here() const;

  // Closes the descriptor (in the owning process) and leaves this empty.
  void Reset();
  // Makes the calling process the owner: for a forked child that keeps this
  // descriptor (it passed it to CloseInheritedDescriptors as kept).
  void Adopt();

 private:
  int fd_ = -1;
  pid_t owner_ = 0;
};

// Closes `fd`, retrying nothing (a close interrupted by a signal has closed
// the descriptor on Linux). For descriptors that are not registered.
void CloseDescriptor(int fd);

// In a freshly forked child: closes every registered descriptor except those
// in `keep`, and forgets them. Async-signal-safe (takes no lock, allocates
// nothing).
void CloseInheritedDescriptors(gsl::span<const int> keep);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_POSIX_FD_H_
