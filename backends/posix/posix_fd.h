// -----------------------------------------------------------------------------
// File: backends/posix/posix_fd.h
// -----------------------------------------------------------------------------
//
// POSIX only: descriptors mproc owns. Every one is opened O_CLOEXEC (so a
// spawned child never inherits it) and registered process-wide (so a forked
// child closes those that belong to its parent: other children's pidfds,
// Manager connections, listening sockets).
//
// Opening + registering (Fd::Open) and deregistering + closing (Fd::Reset)
// are each one step as far as fork is concerned: LaunchFork waits for those
// in progress and holds new ones back until the fork is done
// (HoldDescriptorsForFork), so a forked child never holds an unregistered
// descriptor of its parent's or its siblings'.

#ifndef MPROC_BACKENDS_POSIX_POSIX_FD_H_
#define MPROC_BACKENDS_POSIX_POSIX_FD_H_

#include <sys/types.h>

#include <array>

#include "gsl/span"

namespace mproc::posix {

// DescriptorChange
//
// While one lives on a thread, this process does not fork (LaunchFork waits):
// open and register a descriptor, or deregister and close one, inside it.
// Never held across a blocking call, and never nested on one thread. Keeps
// errno as the last call inside it left it.
class DescriptorChange {
 public:
  DescriptorChange();
  ~DescriptorChange();
  DescriptorChange(const DescriptorChange&) = delete;
  DescriptorChange& operator=(const DescriptorChange&) = delete;
};

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
  // Takes ownership of `fd` (>= 0) and registers it: for a descriptor this
  // process did not just create (inherited), or inside a DescriptorChange.
  // A new one comes from Open.
  explicit Fd(int fd);
  Fd(Fd&& other) noexcept;
  Fd& operator=(Fd&& other) noexcept;
  ~Fd() { Reset(); }

  // Calls `open()` (a system call returning a new descriptor, or -1 with
  // errno set) and registers its result, with no fork in between. On
  // failure the Fd is invalid and errno is open's.
  template <typename OpenFn>
  static Fd Open(OpenFn open) {
    const DescriptorChange change;
    return Fd(open());
  }
  // The same for a call that creates two descriptors: `open(int fds[2])`
  // returns 0 (socketpair, pipe2) or -1 with errno set.
  template <typename OpenFn>
  static std::array<Fd, 2> OpenPair(OpenFn open) {
    const DescriptorChange change;
    int fds[2] = {-1, -1};
    if (open(fds) != 0) return {};
    return {Fd(fds[0]), Fd(fds[1])};
  }

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

// One past the highest descriptor this process may open:
// sysconf(_SC_OPEN_MAX), or 1024 where it gives no usable answer.
int DescriptorLimit();

// Closes every descriptor from `first` on, registered or not: close_range(2)
// where the platform has it (MPROC_POSIX_HAVE_CLOSE_RANGE), else a loop up
// to `end` (one past the highest descriptor that may be open), or with `end`
// 0 up to the descriptor limit (sysconf(_SC_OPEN_MAX)). Async-signal-safe.
void CloseDescriptorsFrom(int first, int end = 0);

// Around fork() (LaunchFork): waits for every DescriptorChange in progress
// and holds new ones back until the matching release. In the parent after
// fork (or after it failed): ReleaseDescriptorsAfterFork. In the child:
// ResetDescriptorsInChild, first, then CloseInheritedDescriptors.
void HoldDescriptorsForFork();
void ReleaseDescriptorsAfterFork();
void ResetDescriptorsInChild();

// In a freshly forked child: closes every registered descriptor except those
// in `keep`, and forgets them. Async-signal-safe (takes no lock, allocates
// nothing).
void CloseInheritedDescriptors(gsl::span<const int> keep);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_POSIX_FD_H_
