// -----------------------------------------------------------------------------
// File: backends/posix/posix_launch.h
// -----------------------------------------------------------------------------
//
// POSIX only: the three start methods. Each returns a Child whose pidfd is
// open, and on error leaves nothing behind (no process, zombie or
// descriptor).

#ifndef MPROC_BACKENDS_POSIX_POSIX_LAUNCH_H_
#define MPROC_BACKENDS_POSIX_POSIX_LAUNCH_H_

#include <sys/types.h>

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/backend.h"
#include "backends/posix/unix_socket_transport.h"
#include "gsl/span"

namespace mproc::posix {

// "fork": flushes stdio, forks, and runs the request in the child, which
// first closes the descriptors mproc holds for others (other children's
// pidfds, Manager connections, listeners other than its own). Errors:
// fork's (EAGAIN -> kUnavailable, ENOMEM -> kResourceExhausted) and
// pidfd_open's (EMFILE -> kResourceExhausted).
[[nodiscard]] absl::StatusOr<std::unique_ptr<Child>> LaunchFork(
    Backend* backend, const LaunchRequest& request);

// "spawn": posix_spawn of /proc/self/exe (glibc: clone(CLONE_VM|CLONE_VFORK),
// so the cost does not grow with the parent's memory) with the command line
// `<program> --mproc-child=3`. The child holds only stdio, the request on
// descriptor 3, for a Manager server its listening socket on 4, and the
// shared objects of LaunchRequest::handovers on 5, 6, ... (posix_shared.h).
// `kInvalidArgument` when the target is not registered or the handover table
// is refused (HandoversToSend: another backend's object, more than
// kMaxHandovers); `kFailedPrecondition` for an object this process holds
// without its descriptor; OS errors as for LaunchFork, plus socketpair's.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Child>> LaunchSpawn(
    Backend* backend, const LaunchRequest& request);

// "forkserver": at the first Start (and after the server has ended), starts
// a fork server, this program again with the command line
// `<program> --mproc-forkserver=3` (forkserver_protocol.h); each Start sends
// it the channel of one child with this process's standard streams and a
// Manager server's listener (SCM_RIGHTS), and the server forks the child.
// The server reaps the child and relays its status on the channel; the
// Child signals it through a pidfd the server opened. The child holds only
// stdio, the listener for a Manager server on 4, and the shared objects of
// LaunchRequest::handovers on 5, 6, ..., as for "spawn" (the control
// message carries their descriptors to the server). Errors: as for "spawn"
// (kInvalidArgument, kFailedPrecondition); `kUnavailable` when the server ended
// before or during this Start (the next Start starts a new one); fork's in
// the server (EAGAIN -> kUnavailable, ENOMEM -> kResourceExhausted);
// socketpair's and posix_spawn's (EMFILE -> kResourceExhausted, ...);
// sendmsg's (ETOOMANYREFS: too many descriptors in flight ->
// kResourceExhausted).
[[nodiscard]] absl::StatusOr<std::unique_ptr<Child>> LaunchForkServer(
    Backend* backend, const LaunchRequest& request);

// In the fork server program (its command line says so): serves until its
// parent ends, then exits. Otherwise returns at once.
void RunForkServerIfRequested(Backend* backend, int argc, char** argv);

// Around fork() in LaunchFork, after PrepareFork and before
// HoldDescriptorsForFork: holds the fork server's lock, so a forked child
// finds it free. In the parent: ReleaseForkServerAfterFork. In the child:
// ForgetForkServerInChild (the parent's server is not the child's; the
// child starts its own when it needs one).
void HoldForkServerForFork();
void ReleaseForkServerAfterFork();
void ForgetForkServerInChild();

// Shared by the start methods.
//
// Starts this program again with the command line `<program> <flag>3`: the
// new process holds stdio, `request_fd` as descriptor 3, `listener_fd`
// (unless -1) as descriptor 4 and `handover_fds` as descriptors 5, 6, ...
// (spawn_protocol.h), and nothing else; its signal mask is empty and every
// disposition default. Returns its pid. Errors: those of ProgramToReexecute
// (kFailedPrecondition), fcntl (EMFILE -> kResourceExhausted) and
// posix_spawn (EAGAIN -> kUnavailable, ...).
[[nodiscard]] absl::StatusOr<pid_t> SpawnSelf(
    absl::string_view flag, int request_fd, int listener_fd,
    gsl::span<const int> handover_fds = {});

//
// The Manager listener `request` hands to its child (nullptr for others).
// Reaps children whose handles were dropped while they ran, first.
// `kInvalidArgument` when the listener was not made by this backend.
[[nodiscard]] absl::StatusOr<UnixListener*> PrepareLaunch(
    const LaunchRequest& request);
// Once the OS has started `pid`: opens its pidfd (killing and reaping the
// child if that fails, so nothing is left behind), marks `listener` handed
// over, and returns the Child.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Child>> AdoptLaunchedChild(
    pid_t pid, UnixListener* listener);

// In a program started by LaunchSpawn (its command line says so): reads the
// request, runs it and exits. Otherwise returns at once. A request that
// cannot be read ends the process with exit code 1 and a line on stderr.
void RunSpawnedChildIfRequested(Backend* backend, int argc, char** argv);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_POSIX_LAUNCH_H_
