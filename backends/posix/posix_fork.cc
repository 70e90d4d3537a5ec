// POSIX only: the "fork" start method.
#include <unistd.h>

#include <cstdio>
#include <utility>
#include <vector>

#include "api/fork_safety.h"
#include "backends/posix/child_side.h"
#include "backends/posix/lifeline.h"
#include "backends/posix/posix_child.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"
#include "backends/posix/posix_launch.h"
#include "backends/posix/posix_shared.h"
#include "backends/posix/unix_socket_transport.h"
#include "gsl/span"

namespace mproc::posix {
namespace {

// The forked child: drops what belongs to others, then runs the request.
// `keep`: the descriptors handed to it (the listener's, then the
// handover table's, then `lifeline`, the read end of this process's lifeline
// or -1), gathered before fork so the child allocates nothing until it has
// closed the rest.
[[noreturn]] void RunForkedChild(Backend* backend, const LaunchRequest& request,
                                 UnixListener* listener,
                                 gsl::span<PosixShared* const> handovers,
                                 gsl::span<const int> keep, int lifeline,
                                 bool started_by_main_thread) {
  // Only this thread exists here: the locks other parent threads held at
  // fork time were held by LaunchFork's thread instead, and are free now.
  AfterForkInChild();
  ForgetForkServerInChild();
  ResetDescriptorsInChild();
  ResetSignalState();
  // close() only, never shutdown(): the sockets are shared with the parent.
  CloseInheritedDescriptors(keep);
  if (listener != nullptr) listener->AdoptInForkedChild();
  for (PosixShared* object : handovers) object->AdoptInForkedChild();
  ForgetAbandonedChildren();
  Fd parent_lifeline = LifelineInForkedChild(lifeline);
  if (request.child.kill_on_parent_death) {
    EndWithParent(static_cast<pid_t>(request.child.parent_pid),
                  started_by_main_thread, std::move(parent_lifeline));
  }
  RunChildAndExit(backend, request, request.listener, request.handovers);
}

// Before any thread exists: Abseil's deadlock detection would make every
// forked child of a threaded parent liable to hang (api/backend.h).
[[maybe_unused]] const bool fork_safety_enabled = EnableForkSafety();

}  // namespace

absl::StatusOr<std::unique_ptr<Child>> LaunchFork(
    Backend* backend, const LaunchRequest& request) {
  absl::StatusOr<UnixListener*> listener = PrepareLaunch(request);
  if (!listener.ok()) return listener.status();
  absl::StatusOr<std::vector<PosixShared*>> handovers =
      PosixHandovers(request.handovers);
  if (!handovers.ok()) return handovers.status();
  std::vector<int> keep;
  if (*listener != nullptr) keep.push_back((*listener)->fd());
  for (PosixShared* object : *handovers) keep.push_back(object->fd());
  int lifeline = -1;
  if (request.child.kill_on_parent_death) {
    absl::StatusOr<int> read_end = LifelineForChild();
    if (!read_end.ok()) return read_end.status();
    lifeline = *read_end;
    if (lifeline >= 0) keep.push_back(lifeline);
  }
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
    RunForkedChild(backend, request, *listener, *handovers, keep, lifeline,
                   started_by_main_thread);
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
