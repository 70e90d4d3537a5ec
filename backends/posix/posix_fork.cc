// POSIX only: the "fork" start method.
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "api/fork_safety.h"
#include "backends/posix/child_side.h"
#include "backends/posix/posix_child.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"
#include "backends/posix/posix_launch.h"
#include "backends/posix/unix_socket_transport.h"
#include "gsl/span"

namespace mproc::posix {
namespace {

// The forked child: drops what belongs to others, then runs the request.
[[noreturn]] void RunForkedChild(Backend* backend, const LaunchRequest& request,
                                 UnixListener* listener,
                                 bool started_by_main_thread) {
  // Only this thread exists here: the locks other parent threads held at
  // fork time were held by LaunchFork's thread instead, and are free now.
  AfterForkInChild();
  ForgetForkServerInChild();
  ResetDescriptorsInChild();
  ResetSignalState();
  const int keep[] = {listener != nullptr ? listener->fd() : -1};
  // close() only, never shutdown(): the sockets are shared with the parent.
  CloseInheritedDescriptors(
      gsl::span<const int>(keep, listener != nullptr ? 1 : 0));
  if (listener != nullptr) listener->AdoptInForkedChild();
  ForgetAbandonedChildren();
  if (request.child.kill_on_parent_death) {
    EndWithParent(static_cast<pid_t>(request.child.parent_pid),
                  started_by_main_thread);
  }
  RunChildAndExit(backend, request, request.listener);
}

// Before any thread exists: Abseil's deadlock detection would make every
// forked child of a threaded parent liable to hang (api/backend.h).
[[maybe_unused]] const bool fork_safety_enabled = EnableForkSafety();

}  // namespace

absl::StatusOr<std::unique_ptr<Child>> LaunchFork(
    Backend* backend, const LaunchRequest& request) {
  absl::StatusOr<UnixListener*> listener = PrepareLaunch(request);
  if (!listener.ok()) return listener.status();
  // A pidfd of our own reserves the descriptor the child's pidfd needs, so a
  // full descriptor table fails here, before any child exists.
  absl::StatusOr<Fd> reserved = OpenPidfd(getpid());
  if (!reserved.ok()) return reserved.status();
  const bool started_by_main_thread = OnMainThread();

  // No other thread holds a lock the child may take, or is between creating
  // a descriptor and registering it (or deregistering and closing one).
  PrepareFork();
  HoldForkServerForFork();
  HoldDescriptorsForFork();
  std::fflush(nullptr);  // or the child would write the parent's buffers again
  const pid_t pid = ForkWithSignalsBlocked();
  if (pid == 0) {
    RunForkedChild(backend, request, *listener, started_by_main_thread);
  }
  const int fork_error = errno;
  ReleaseDescriptorsAfterFork();
  ReleaseForkServerAfterFork();
  AfterForkInParent();
  if (pid < 0) {
    return ErrnoStatus(fork_error, "fork", ProcessStartAdvice(fork_error));
  }
  reserved->Reset();
  return AdoptLaunchedChild(pid, *listener);
}

}  // namespace mproc::posix
