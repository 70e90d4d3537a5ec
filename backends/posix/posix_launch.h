// -----------------------------------------------------------------------------
// File: backends/posix/posix_launch.h
// -----------------------------------------------------------------------------
//
// POSIX only: the two start methods. Both return a Child whose pidfd is open,
// and on error leave nothing behind (no process, zombie or descriptor).

#ifndef MPROC_BACKENDS_POSIX_POSIX_LAUNCH_H_
#define MPROC_BACKENDS_POSIX_POSIX_LAUNCH_H_

#include <sys/types.h>

#include <memory>

#include "absl/status/statusor.h"
#include "api/backend.h"
#include "backends/posix/unix_socket_transport.h"

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
// `kInvalidArgument` when the target is not registered; OS errors as for
// LaunchFork, plus socketpair's.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Child>> LaunchSpawn(
    Backend* backend, const LaunchRequest& request);

// Shared by both start methods.
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
