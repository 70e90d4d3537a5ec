// -----------------------------------------------------------------------------
// File: backends/posix/child_side.h
// -----------------------------------------------------------------------------
//
// POSIX only: what a child process does for itself, however it was started
// (fork, or posix_spawn and re-execution): tie its life to its parent's when
// asked, run the target through api's RunChild, and end with its status.

#ifndef MPROC_BACKENDS_POSIX_CHILD_SIDE_H_
#define MPROC_BACKENDS_POSIX_CHILD_SIDE_H_

#include <sys/types.h>

#include <memory>
#include <vector>

#include "api/backend.h"
#include "backends/posix/posix_fd.h"

namespace mproc::posix {

// fork() with every signal blocked in the calling thread across the call:
// the parent gets its own mask back before this returns; the child (return
// value 0) keeps every signal blocked until it calls ResetSignalState, so a
// signal sent to it meanwhile waits, pending, instead of meeting the
// parent's handlers or SIG_IGN. Returns -1 with errno set as fork does.
pid_t ForkWithSignalsBlocked();

// In a forked child, first thing: every signal's disposition back to SIG_DFL
// and an empty signal mask, whatever the parent had (docs/design.md §4: a
// parent that ignores or blocks SIGTERM must still be able to terminate its
// children). Async-signal-safe.
void ResetSignalState();

// True when the calling thread is its process's main thread.
bool OnMainThread();

// Makes the calling process (a child) die by SIGKILL when its parent
// `parent_pid` dies. `lifeline`: the read end of the parent's lifeline
// (lifeline.h), where the build uses them; then a small watcher thread here
// polls it, whichever thread started the child. Without one:
// `started_by_main_thread`: the parent started this child from its main
// thread. Then PR_SET_PDEATHSIG(SIGKILL) is enough (it fires when the
// *thread* that started the child ends, which is the process's end for the
// main thread). Otherwise a worker thread's exit must not kill the child, so
// the watcher thread polls the parent's pidfd instead (or, without pidfds,
// getppid() every 100 ms). Either way getppid() is checked afterwards: a
// parent that is already gone ends this process at once.
void EndWithParent(pid_t parent_pid, bool started_by_main_thread, Fd lifeline);

// Runs `request` as this process (api's RunChild, owning the process), then
// flushes stdio and ends the process with the status: `_exit(code)`, or death
// by the signal. `listener`: a Manager server's listener, or null.
// `handovers`: the request's handover table as this process holds it.
[[noreturn]] void RunChildAndExit(
    Backend* backend, const LaunchRequest& request,
    std::shared_ptr<Listener> listener,
    std::vector<std::shared_ptr<SharedObject>> handovers);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_CHILD_SIDE_H_
