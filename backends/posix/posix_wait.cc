// POSIX only: Backend::WaitReady, one poll() over channel ends and children
// (posix_channel.h).
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

#include "api/fork_safety.h"
#include "backends/posix/poll_timeout.h"
#include "backends/posix/posix_channel.h"
#include "backends/posix/posix_child.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_shared.h"

namespace mproc::posix {
namespace {

// True when `child` has ended (reaping it) or cannot be waited for (the
// caller's Join reports why).
bool HasEnded(Child& child) {
  absl::StatusOr<std::optional<ExitStatus>> status =
      child.Wait(absl::InfinitePast());
  return !status.ok() || status->has_value();
}

}  // namespace

absl::StatusOr<Backend::Ready> PosixWaitReady(gsl::span<ChannelEnd* const> ends,
                                              gsl::span<Child* const> children,
                                              absl::Time deadline) {
  const size_t n = ends.size();
  std::vector<pollfd> fds(n + children.size());
  for (size_t i = 0; i < n; ++i) {
    auto* end = dynamic_cast<PosixShared*>(ends[i]);
    if (end == nullptr || end->kind() != PosixShared::Kind::kChannel) {
      return absl::InvalidArgumentError(
          "a Connection made by another backend was passed to posix's Wait; "
          "wait on objects of one context's backend");
    }
    if (end->fd() < 0) {
      return absl::FailedPreconditionError(
          "this process does not hold a channel end it waits on (closed, or "
          "it reached this forked process inside a closure)");
    }
    fds[i] = {.fd = end->fd(), .events = POLLIN, .revents = 0};
  }
  std::vector<PollableChild*> pollable(children.size());
  for (size_t j = 0; j < children.size(); ++j) {
    pollable[j] = dynamic_cast<PollableChild*>(children[j]);
    if (pollable[j] == nullptr) {
      return absl::InvalidArgumentError(
          "a Process of another backend was passed to posix's Wait; wait on "
          "objects of one context's backend");
    }
  }
  int backoff_ms = 1;  // for children without an end descriptor
  while (true) {
    Backend::Ready ready;
    bool unpollable = false;
    for (size_t j = 0; j < children.size(); ++j) {
      pollfd& watch = fds[n + j];
      watch = {.fd = -1, .events = POLLIN, .revents = 0};  // poll skips -1
      if (HasEnded(*children[j])) {
        ready.children.push_back(j);
        continue;
      }
      watch.fd = pollable[j]->PinEndFd();
      if (watch.fd < 0) unpollable = true;
    }
    const int timeout =
        !ready.children.empty()
            ? 0
            : PollTimeout(deadline, unpollable ? backoff_ms : -1);
    const int polled = poll(fds.data(), fds.size(), timeout);
    const int error = errno;
    for (size_t j = 0; j < children.size(); ++j) {
      if (fds[n + j].fd >= 0) pollable[j]->UnpinEndFd();
    }
    if (polled < 0 && error != EINTR) {
      return ErrnoStatus(error, "poll", "cannot wait for the objects");
    }
    if (polled > 0) {
      for (size_t i = 0; i < n; ++i) {
        if (fds[i].revents != 0) ready.ends.push_back(i);
      }
      // A child's descriptor speaks when it may have ended: ask it.
      for (size_t j = 0; j < children.size(); ++j) {
        if (fds[n + j].fd >= 0 && fds[n + j].revents != 0 &&
            HasEnded(*children[j])) {
          ready.children.push_back(j);
        }
      }
      std::sort(ready.children.begin(), ready.children.end());
    }
    if (!ready.ends.empty() || !ready.children.empty()) return ready;
    if (ForkSafeNow() >= deadline) return ready;
    if (unpollable) backoff_ms = std::min(backoff_ms * 2, 50);
  }
}

}  // namespace mproc::posix
