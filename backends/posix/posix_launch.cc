// POSIX only: the steps both start methods share.
#include "backends/posix/posix_launch.h"

#include <utility>

#include "backends/posix/posix_child.h"
#include "backends/posix/posix_fd.h"

namespace mproc::posix {

absl::StatusOr<UnixListener*> PrepareLaunch(const LaunchRequest& request) {
  ReapAbandonedChildren();
  auto* listener = dynamic_cast<UnixListener*>(request.listener.get());
  if (request.listener != nullptr && listener == nullptr) {
    return absl::InvalidArgumentError(
        "the Manager listener was not made by the posix backend");
  }
  return listener;
}

absl::StatusOr<std::unique_ptr<Child>> AdoptLaunchedChild(
    pid_t pid, UnixListener* listener) {
  absl::StatusOr<Fd> pidfd = OpenPidfd(pid);
  if (!pidfd.ok()) {
    KillAndReap(pid);
    return pidfd.status();
  }
  std::shared_ptr<const void> until_reaped;
  if (listener != nullptr) {
    listener->MarkHandedOver();
    until_reaped = listener->directory();
  }
  return MakePosixChild(pid, *std::move(pidfd), std::move(until_reaped));
}

}  // namespace mproc::posix
