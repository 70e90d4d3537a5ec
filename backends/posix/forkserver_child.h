// -----------------------------------------------------------------------------
// File: backends/posix/forkserver_child.h
// -----------------------------------------------------------------------------
//
// POSIX only: the parent's handle on a child that posix:forkserver's fork
// server forked. The server reaps the child and sends its status on the
// child's channel (forkserver_protocol.h); Wait polls that channel with the
// deadline. Terminate and Kill go through the child's pidfd, which the
// server opened while the child was its unreaped child, so they never reach
// another process. No helper thread.

#ifndef MPROC_BACKENDS_POSIX_FORKSERVER_CHILD_H_
#define MPROC_BACKENDS_POSIX_FORKSERVER_CHILD_H_

#include <sys/types.h>

#include <memory>

#include "api/backend.h"
#include "backends/posix/posix_fd.h"

namespace mproc::posix {

// The handle on child `pid`, with its pidfd (invalid on a kernel without
// pidfds: then kill(pid) until its status has arrived) and its channel.
// `until_reaped` is held until the status has arrived (a Manager server's
// socket directory). Wait's errors: `kUnavailable` when the server ended
// before the child did (its status is lost; reported once the child has
// ended, and for every later call); poll's.
//
// Destroying the handle of a running child lets it run on: the server reaps
// it.
[[nodiscard]] std::unique_ptr<Child> MakeForkServerChild(
    pid_t pid, Fd pidfd, Fd channel, std::shared_ptr<const void> until_reaped);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_FORKSERVER_CHILD_H_
