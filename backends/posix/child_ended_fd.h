// -----------------------------------------------------------------------------
// File: backends/posix/child_ended_fd.h
// -----------------------------------------------------------------------------
//
// POSIX only: a descriptor that polls readable once a child of this process
// has ended, for the fork server's poll loop. signalfd(2) with SIGCHLD
// blocked where the platform has it (MPROC_POSIX_HAVE_SIGNALFD), else a
// self-pipe that a SIGCHLD handler writes to (POSIX; MPROC_POSIX_PORTABLE=ON
// takes it everywhere). The handler is process-wide: for the fork server, a
// single-threaded program of mproc's own, not for a user's process.

#ifndef MPROC_BACKENDS_POSIX_CHILD_ENDED_FD_H_
#define MPROC_BACKENDS_POSIX_CHILD_ENDED_FD_H_

#include "absl/status/status.h"

namespace mproc::posix {

// Opens the descriptor (once per process). Errors: signalfd's or pipe's
// (EMFILE -> kResourceExhausted, ...).
[[nodiscard]] absl::Status OpenChildEndedFd();

// The descriptor to poll for POLLIN.
int ChildEndedFd();

// Empties it once it polled readable; then reap with waitid(WNOHANG) until
// none is left (several ends may have made it readable once).
void DrainChildEndedFd();

// In a child forked by the fork server, before ResetSignalState: closes its
// descriptors (ResetSignalState then drops the handler and the mask).
void CloseChildEndedFdInChild();

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_CHILD_ENDED_FD_H_
