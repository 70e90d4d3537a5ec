// -----------------------------------------------------------------------------
// File: backends/posix/lifeline.h
// -----------------------------------------------------------------------------
//
// POSIX only: how a kill_on_parent_death child learns that its parent ended
// where the OS has no PR_SET_PDEATHSIG (MPROC_POSIX_HAVE_PR_SET_PDEATHSIG is
// 0: not Linux, or MPROC_POSIX_PORTABLE=ON). The parent makes one pipe, its
// lifeline, and holds its write end alone: close-on-exec, and closed in every
// child forked through mproc (posix_fd.h). Each such child holds the read
// end, which polls readable (end of file) once the parent has ended, however
// it ended; a watcher thread in the child then kills the child
// (child_side.h).
//
// Where each start method puts the read end in the child: "fork" inherits it
// (kept by CloseInheritedDescriptors); "spawn" and the fork server's children
// find it on the descriptor after the last handed-over object,
// kFirstHandoverFd + the number of handovers (spawn_protocol.h).
//
// The gap: a process this one forks without mproc (plain fork() without
// exec) inherits the write end, and the children see their parent end only
// once that process has ended too.

#ifndef MPROC_BACKENDS_POSIX_LIFELINE_H_
#define MPROC_BACKENDS_POSIX_LIFELINE_H_

#include "absl/status/statusor.h"
#include "backends/posix/posix_fd.h"

namespace mproc::posix {

// True where children are tied to their parent by a lifeline (else by
// PR_SET_PDEATHSIG or a pidfd).
inline constexpr bool kUseLifeline = !MPROC_POSIX_HAVE_PR_SET_PDEATHSIG;

// Makes this process's lifeline now, at program start (the posix backend's
// RunChildIfRequested), so the descriptors it holds do not appear later as
// if a Start had leaked them. Does nothing without kUseLifeline; a failure
// is left for the first Start that needs one to report.
void PrepareLifeline();

// The read end of this process's lifeline (made on first use), to hand to a
// kill_on_parent_death child; -1 without kUseLifeline. Errors: pipe's
// (EMFILE -> kResourceExhausted).
[[nodiscard]] absl::StatusOr<int> LifelineForChild();

// In a child forked by LaunchFork, after CloseInheritedDescriptors: forgets
// the parent's lifeline (its write end is closed; this process makes its own
// when it needs one) and returns the read end the child kept, descriptor
// `kept` (-1: none kept, an invalid Fd).
Fd LifelineInForkedChild(int kept);

// In a started program ("spawn", a fork server's child): takes descriptor
// `fd`, the read end its parent put there, as this process's own
// (registered, close-on-exec). An invalid Fd for -1.
Fd AdoptLifeline(int fd);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_LIFELINE_H_
