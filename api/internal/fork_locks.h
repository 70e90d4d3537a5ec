// -----------------------------------------------------------------------------
// File: api/internal/fork_locks.h
// -----------------------------------------------------------------------------
//
// Internal: the process-wide mutexes of api/ that a forked child may take
// (the stdout and stderr writers, the backend and target registries). A
// backend that forks holds them all across fork() (PrepareFork and
// AfterForkIn* in api/backend.h), so a child never inherits one held by a
// thread that does not exist in it.
//
// Only a short-held leaf lock may be fork-guarded: never held across blocking
// I/O, a call into a backend, or while taking another fork-guarded mutex (the
// forking thread takes them all, in enum order, and would otherwise wait on a
// thread that waits on it).

#ifndef MPROC_API_INTERNAL_FORK_LOCKS_H_
#define MPROC_API_INTERNAL_FORK_LOCKS_H_

#include "absl/synchronization/mutex.h"

namespace mproc::internal {

// The fork-guarded mutexes, in the order PrepareFork takes them.
enum class ForkGuarded {
  kStdoutWriter,     // PrintLine
  kStderrWriter,     // WriteStderr
  kBackendRegistry,  // RegisterBackend, FindBackend, RegisteredBackends
  kTargetRegistry,   // the registered target functions
  kTaskRegistry,     // the registered Pool task functions
  kCount,
};

// The mutex `which`. Constant-initialised (usable during static
// initialisation), never destroyed.
absl::Mutex& ForkGuardedMutex(ForkGuarded which);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_FORK_LOCKS_H_
