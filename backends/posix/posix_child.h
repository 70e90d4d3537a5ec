// -----------------------------------------------------------------------------
// File: backends/posix/posix_child.h
// -----------------------------------------------------------------------------
//
// POSIX only: the parent's handle on one child process, however it started.
// Waits poll the child's pidfd with the deadline; signals go through the
// pidfd. Where there is none (no pidfd_open at configure time, Linux < 5.3,
// MPROC_POSIX_PORTABLE=ON) waits poll waitid(WNOHANG) with a backoff from
// 50 µs to 50 ms (PollBackoff), bounded by the deadline, and signals use
// kill(): the child is not reaped before its status is taken, so its pid names
// no other process meanwhile. No helper thread, no SIGCHLD handler.

#ifndef MPROC_BACKENDS_POSIX_POSIX_CHILD_H_
#define MPROC_BACKENDS_POSIX_POSIX_CHILD_H_

#include <sys/types.h>

#include <memory>

#include "absl/status/statusor.h"
#include "api/backend.h"
#include "backends/posix/posix_fd.h"

namespace mproc::posix {

// PollableChild
//
// What Backend::WaitReady (posix_channel.h) polls for a child's end; every
// Child this backend makes is one.
class PollableChild {
 public:
  virtual ~PollableChild() = default;
  // A descriptor that polls readable once the child may have ended (its
  // pidfd; a fork server child's status channel), kept open until
  // UnpinEndFd; or -1 when there is none to poll (no pidfd on this kernel,
  // or the child has been reaped): the caller then asks Wait again after a
  // short while.
  virtual int PinEndFd() = 0;
  // Undoes one PinEndFd that returned a descriptor.
  virtual void UnpinEndFd() = 0;
};

// Opens a pidfd for `pid`. An invalid Fd (and OK) when the kernel has no
// pidfd_open (before Linux 5.3): callers then fall back to waitpid.
// Errors: EMFILE -> kResourceExhausted, ESRCH -> kNotFound, ...
[[nodiscard]] absl::StatusOr<Fd> OpenPidfd(pid_t pid);

// pidfd_open(2), the descriptor not registered (posix_fd.h): for the fork
// server, a single-threaded program that does not use LaunchFork. A new
// CLOEXEC descriptor, or -1 with errno set: ENOSYS where the build has no
// pidfds.
int OpenPidfdUnregistered(pid_t pid);

// The handle on child `pid` (just started by this process, not yet reaped)
// with its pidfd (may be invalid: waitpid polling). `until_reaped` is held
// until the child is reaped, then dropped (a Manager server's socket
// directory, which is removed then).
//
// Destroying the handle of a child that still runs lets it run on; it is
// reaped (not left a zombie) by a later Launch of this process once it has
// ended, or when this process exits.
[[nodiscard]] std::unique_ptr<Child> MakePosixChild(
    pid_t pid, Fd pidfd, std::shared_ptr<const void> until_reaped);

// Sends `signal` to child `pid`: through `pidfd` when it is valid (it names
// that child, never a process that later reused its pid), else with kill().
// OK when the child has already ended (ESRCH); the OS's refusal otherwise
// (EPERM -> kPermissionDenied, ...).
[[nodiscard]] absl::Status SendSignal(pid_t pid, const Fd& pidfd, int signal);

// Kills and reaps `pid` (a child this process just started and cannot hand
// out): nothing is left behind.
void KillAndReap(pid_t pid);

// Reaps children whose handles were destroyed while they ran and that have
// ended since. Cheap when there are none.
void ReapAbandonedChildren();

// In a freshly forked child: forgets the parent's abandoned children.
void ForgetAbandonedChildren();

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_POSIX_CHILD_H_
