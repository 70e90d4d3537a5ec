// POSIX only: a fork server's child, as its parent sees it.
#include "backends/posix/forkserver_child.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api/fork_safety.h"
#include "backends/posix/forkserver_protocol.h"
#include "backends/posix/poll_timeout.h"
#include "backends/posix/posix_child.h"
#include "backends/posix/posix_errors.h"

namespace mproc::posix {
namespace {

// True once the process behind pidfd `fd` has ended (false if `fd` < 0).
bool Ended(int fd) {
  if (fd < 0) return false;
  pollfd ended{.fd = fd, .events = POLLIN, .revents = 0};
  return poll(&ended, 1, 0) > 0 && (ended.revents & POLLIN) != 0;
}

// ForkServerChild
//
// A child the fork server forked: the server reaps it and sends its status
// on the channel; signals go through its pidfd (held by the server until it
// reaped the child, so it names no other process).
class ForkServerChild final : public Child, public PollableChild {
 public:
  ForkServerChild(pid_t pid, Fd pidfd, Fd channel,
                  std::shared_ptr<const void> until_reaped)
      : pid_(pid),
        pidfd_(std::move(pidfd)),
        channel_(std::move(channel)),
        until_reaped_(std::move(until_reaped)) {}

  int64_t pid() const override { return pid_; }

  absl::StatusOr<std::optional<ExitStatus>> Wait(absl::Time deadline) override {
    while (true) {
      int fd = -1;
      {
        absl::MutexLock lock(&mu_);
        if (exit_.has_value()) return exit_;
        if (!wait_error_.ok()) return wait_error_;
        ReadStatusLocked();
        if (exit_.has_value()) return exit_;
        if (!wait_error_.ok()) return wait_error_;
        if (deadline <= ForkSafeNow()) return std::nullopt;
        // Until the server has gone, its word; then the child's own end.
        fd = server_gone_ ? pidfd_.get() : channel_.get();
        if (fd < 0) {
          wait_error_ = StatusLost();
          ReleaseLocked();
          return wait_error_;
        }
        ++pollers_;  // keeps the descriptors open while we poll
      }
      pollfd ready{.fd = fd, .events = POLLIN, .revents = 0};
      const int polled = poll(&ready, 1, PollTimeout(deadline));
      const int error = errno;
      absl::MutexLock lock(&mu_);
      if (--pollers_ == 0 && released_) {
        pidfd_.Reset();
        channel_.Reset();
      }
      if (polled < 0 && error != EINTR) {
        return ErrnoStatus(error, "poll", "cannot wait for the child");
      }
    }
  }

  absl::Status Terminate() override { return Signal(SIGTERM); }
  absl::Status Kill() override { return Signal(SIGKILL); }

  int PinEndFd() override {
    absl::MutexLock lock(&mu_);
    if (released_) return -1;
    // Until the server has gone, its word; then the child's own end.
    const int fd = server_gone_ ? pidfd_.get() : channel_.get();
    if (fd >= 0) ++pollers_;
    return fd;
  }

  void UnpinEndFd() override {
    absl::MutexLock lock(&mu_);
    if (--pollers_ == 0 && released_) {
      pidfd_.Reset();
      channel_.Reset();
    }
  }

 private:
  absl::Status StatusLost() const {
    return absl::UnavailableError(absl::StrCat(
        "the fork server ended before child ", pid_,
        " did, so its exit status is lost (its kill_on_parent_death "
        "children end with it); do not kill mproc's fork server"));
  }

  // Reads what the server has sent, without blocking: the status, or the
  // end of the channel (the server has gone). Once the server has gone, an
  // ended child's status is lost (wait_error_).
  void ReadStatusLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (!server_gone_ && received_ < sizeof(status_)) {
      const ssize_t n =
          recv(channel_.get(), reinterpret_cast<char*>(&status_) + received_,
               sizeof(status_) - received_, MSG_DONTWAIT);
      if (n > 0) {
        received_ += static_cast<size_t>(n);
      } else if (n == 0 ||
                 (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
        server_gone_ = true;
      } else if (errno != EINTR) {
        return;  // nothing yet
      }
    }
    if (received_ == sizeof(status_)) {
      exit_ = status_.kind == kExitedKind ? ExitStatus::Exited(status_.value)
                                          : ExitStatus::Signaled(status_.value);
      ReleaseLocked();
      return;
    }
    if (server_gone_ && Ended(pidfd_.get())) {
      wait_error_ = StatusLost();
      ReleaseLocked();
    }
  }

  void ReleaseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    released_ = true;
    until_reaped_.reset();
    if (pollers_ == 0) {
      pidfd_.Reset();
      channel_.Reset();
    }
  }

  absl::Status Signal(int signal) {
    absl::MutexLock lock(&mu_);
    // Without a pidfd, kill(pid): first take a status the server has sent,
    // so the window in which the pid could name another process is only
    // that between the server's reaping and its message (docs/design.md §5).
    if (!released_ && !pidfd_.valid()) ReadStatusLocked();
    if (released_) return absl::OkStatus();
    return SendSignal(pid_, pidfd_, signal);
  }

  const pid_t pid_;
  absl::Mutex mu_;
  Fd pidfd_ ABSL_GUARDED_BY(mu_);
  Fd channel_ ABSL_GUARDED_BY(mu_);
  int pollers_ ABSL_GUARDED_BY(mu_) = 0;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  bool server_gone_ ABSL_GUARDED_BY(mu_) = false;
  ForkServerStatus status_ ABSL_GUARDED_BY(mu_);
  size_t received_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<ExitStatus> exit_ ABSL_GUARDED_BY(mu_);
  absl::Status wait_error_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const void> until_reaped_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<Child> MakeForkServerChild(
    pid_t pid, Fd pidfd, Fd channel, std::shared_ptr<const void> until_reaped) {
  return std::make_unique<ForkServerChild>(
      pid, std::move(pidfd), std::move(channel), std::move(until_reaped));
}

}  // namespace mproc::posix
