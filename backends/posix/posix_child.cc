// POSIX only: waiting for, signalling and reaping one child process.
#include "backends/posix/posix_child.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "api/fork_safety.h"
#include "backends/posix/lock_free_int_set.h"
#include "backends/posix/poll_timeout.h"
#include "backends/posix/posix_errors.h"

namespace mproc::posix {
namespace {

// Children whose handle was destroyed while they ran (reaped later).
constinit LockFreeIntSet abandoned_children;
constinit std::atomic<int> abandoned_count{0};

int SysPidfdSendSignal(int pidfd, int signal) {
#if MPROC_POSIX_HAVE_PIDFD_OPEN
  return static_cast<int>(
      syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
#else
  (void)pidfd;
  (void)signal;
  errno = ENOSYS;  // not reached: there is no pidfd to send through
  return -1;
#endif
}

class PosixChild final : public Child, public PollableChild {
 public:
  PosixChild(pid_t pid, Fd pidfd, std::shared_ptr<const void> until_reaped)
      : pid_(pid),
        pidfd_(std::move(pidfd)),
        until_reaped_(std::move(until_reaped)) {}

  ~PosixChild() override {
    absl::MutexLock lock(&mu_);
    if (exit_.has_value() || !wait_error_.ok()) return;
    // A zombie is reaped now; a running child by a later Launch.
    if (absl::StatusOr<bool> reaped = TryReapLocked();
        reaped.ok() && !*reaped) {
      abandoned_children.Insert(pid_);
      abandoned_count.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  int64_t pid() const override { return pid_; }

  absl::StatusOr<std::optional<ExitStatus>> Wait(absl::Time deadline) override {
    PollBackoff backoff;  // for waitid polling without a pidfd
    while (true) {
      int pidfd = -1;
      {
        absl::MutexLock lock(&mu_);
        if (exit_.has_value()) return exit_;
        if (!wait_error_.ok()) return wait_error_;
        absl::StatusOr<bool> reaped = TryReapLocked();
        if (!reaped.ok()) return reaped.status();
        if (*reaped) return exit_;
        if (deadline <= ForkSafeNow()) return std::nullopt;
        if (pidfd_.valid()) {
          pidfd = pidfd_.get();
          ++pollers_;  // keeps pidfd_ open while we poll it without the lock
        }
      }
      if (pidfd < 0) {
        backoff.Pause(deadline);
        continue;
      }
      pollfd ended{.fd = pidfd, .events = POLLIN, .revents = 0};
      const int polled = poll(&ended, 1, PollTimeout(deadline, -1));
      const int error = errno;
      absl::MutexLock lock(&mu_);
      if (--pollers_ == 0 && exit_.has_value()) pidfd_.Reset();
      if (polled < 0 && error != EINTR) {
        return ErrnoStatus(error, "poll(pidfd)", "cannot wait for the child");
      }
    }
  }

  absl::Status Terminate() override { return Signal(SIGTERM); }
  absl::Status Kill() override { return Signal(SIGKILL); }

  int PinEndFd() override {
    absl::MutexLock lock(&mu_);
    if (exit_.has_value() || !wait_error_.ok() || !pidfd_.valid()) return -1;
    ++pollers_;
    return pidfd_.get();
  }

  void UnpinEndFd() override {
    absl::MutexLock lock(&mu_);
    if (--pollers_ == 0 && (exit_.has_value() || !wait_error_.ok())) {
      pidfd_.Reset();
    }
  }

 private:
  // Reaps the child if it has ended; true when it has. Records the exit
  // status (or the OS's refusal, which then sticks) and lets go of what is
  // held until then.
  absl::StatusOr<bool> TryReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    siginfo_t info{};
    // Only this object reaps pid_, under mu_, so pid_ still names our child.
    if (RetryOnEintr([&] {
          return waitid(P_PID, static_cast<id_t>(pid_), &info,
                        WEXITED | WNOHANG);
        }) != 0) {
      wait_error_ = ErrnoStatus(
          errno, "waitid",
          "the child was reaped elsewhere: do not set SIGCHLD to SIG_IGN or "
          "call waitpid(-1) while mproc children run");
      ReleaseLocked();
      return wait_error_;
    }
    if (info.si_pid == 0) return false;  // still running
    exit_ = info.si_code == CLD_EXITED ? ExitStatus::Exited(info.si_status)
                                       : ExitStatus::Signaled(info.si_status);
    ReleaseLocked();
    return true;
  }

  void ReleaseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    until_reaped_.reset();
    if (pollers_ == 0) pidfd_.Reset();
  }

  absl::Status Signal(int signal) {
    absl::MutexLock lock(&mu_);
    // Reaped (or reaped elsewhere): the pid may name another process now.
    if (exit_.has_value() || !wait_error_.ok()) return absl::OkStatus();
    return SendSignal(pid_, pidfd_, signal);
  }

  const pid_t pid_;
  absl::Mutex mu_;
  Fd pidfd_ ABSL_GUARDED_BY(mu_);
  int pollers_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<ExitStatus> exit_ ABSL_GUARDED_BY(mu_);
  absl::Status wait_error_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const void> until_reaped_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::Status SendSignal(pid_t pid, const Fd& pidfd, int signal) {
  const int sent = pidfd.valid() ? SysPidfdSendSignal(pidfd.get(), signal)
                                 : kill(pid, signal);
  if (sent == 0 || errno == ESRCH) return absl::OkStatus();
  return ErrnoStatus(errno, pidfd.valid() ? "pidfd_send_signal" : "kill",
                     "cannot signal the child");
}

int OpenPidfdUnregistered(pid_t pid) {
#if MPROC_POSIX_HAVE_PIDFD_OPEN
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

absl::StatusOr<Fd> OpenPidfd(pid_t pid) {
  Fd fd = Fd::Open([pid] { return OpenPidfdUnregistered(pid); });
  if (fd.valid()) return fd;
  // No pidfd_open (Linux < 5.3, other systems, MPROC_POSIX_PORTABLE), or a
  // seccomp filter that refuses it.
  if (errno == ENOSYS || errno == EPERM) return Fd();
  return ErrnoStatus(errno, "pidfd_open",
                     "raise the descriptor limit (ulimit -n) or close "
                     "descriptors");
}

std::unique_ptr<Child> MakePosixChild(
    pid_t pid, Fd pidfd, std::shared_ptr<const void> until_reaped) {
  return std::make_unique<PosixChild>(pid, std::move(pidfd),
                                      std::move(until_reaped));
}

void KillAndReap(pid_t pid) {
  (void)kill(pid, SIGKILL);
  (void)RetryOnEintr([pid] { return waitpid(pid, nullptr, 0); });
}

void ReapAbandonedChildren() {
  if (abandoned_count.load(std::memory_order_acquire) == 0) return;
  const int erased = abandoned_children.ForEachMaybeErase([](int64_t pid) {
    const pid_t reaped = RetryOnEintr(
        [pid] { return waitpid(static_cast<pid_t>(pid), nullptr, WNOHANG); });
    return reaped != 0;  // reaped, or not ours any more (ECHILD)
  });
  abandoned_count.fetch_sub(erased, std::memory_order_acq_rel);
}

void ForgetAbandonedChildren() {
  (void)abandoned_children.ForEachMaybeErase([](int64_t) { return true; });
  abandoned_count.store(0, std::memory_order_release);
}

}  // namespace mproc::posix
