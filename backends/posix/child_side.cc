// POSIX only: the child's side of a launch: parent-death watch, run, exit.
#include "backends/posix/child_side.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#if MPROC_POSIX_HAVE_PR_SET_PDEATHSIG
#include <sys/prctl.h>
#endif

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/posix/posix_child.h"
#include "backends/posix/posix_fd.h"

namespace mproc::posix {
namespace {

// PR_SET_PDEATHSIG(SIGKILL) where the platform has it: true when set.
bool SetParentDeathSignal() {
#if MPROC_POSIX_HAVE_PR_SET_PDEATHSIG
  return prctl(PR_SET_PDEATHSIG, SIGKILL) == 0;
#else
  return false;  // a lifeline instead (lifeline.h)
#endif
}

[[noreturn]] void DieNow() {
  (void)kill(getpid(), SIGKILL);
  _exit(128 + SIGKILL);  // not reached
}

void Warn(absl::string_view what) {
  const std::string line =
      absl::StrCat("mproc: cannot watch the parent process (", what,
                   "); this child will not end when its parent dies\n");
  (void)write(STDERR_FILENO, line.data(), line.size());
}

// Polls `parent` (the parent's pidfd or the read end of its lifeline; if it
// is invalid, or the target closes it, then getppid() every 100 ms) and kills
// this process once the parent has ended. Never returns.
void WatchParent(Fd parent, pid_t parent_pid) {
  bool use_fd = parent.valid();
  while (true) {
    if (use_fd) {
      // A pidfd polls POLLIN once the process ended, a lifeline POLLHUP (end
      // of file: nobody ever writes to it).
      pollfd ended{.fd = parent.get(), .events = POLLIN, .revents = 0};
      if (poll(&ended, 1, -1) > 0) {
        if ((ended.revents & (POLLIN | POLLHUP)) != 0) DieNow();
        use_fd = (ended.revents & POLLNVAL) == 0;
      }
    } else {
      (void)poll(nullptr, 0, 100);
      if (getppid() != parent_pid) DieNow();
    }
  }
}

}  // namespace

pid_t ForkWithSignalsBlocked() {
  sigset_t all, old;
  sigfillset(&all);
  (void)pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = fork();
  if (pid != 0) {
    const int saved = errno;
    (void)pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = saved;
  }
  return pid;
}

void ResetSignalState() {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal == SIGKILL || signal == SIGSTOP) continue;
    // Fails (EINVAL) for the C library's own real-time signals: harmless.
    (void)sigaction(signal, &default_action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  (void)sigprocmask(SIG_SETMASK, &none, nullptr);
}

#if MPROC_POSIX_HAVE_GETTID
bool OnMainThread() { return gettid() == getpid(); }
#else
namespace {
// The thread whose end ends the process: the one that ran static
// initialisation, and in a forked child the thread that forked (its only
// one). Lock-free, for the fork handler.
std::atomic<pthread_t> main_thread{pthread_self()};
const int main_thread_tracked = pthread_atfork(nullptr, nullptr, [] {
  main_thread.store(pthread_self(), std::memory_order_relaxed);
});
}  // namespace

bool OnMainThread() {
  (void)main_thread_tracked;
  return pthread_equal(pthread_self(),
                       main_thread.load(std::memory_order_relaxed)) != 0;
}
#endif

void EndWithParent(pid_t parent_pid, bool started_by_main_thread, Fd lifeline) {
  if (started_by_main_thread && !lifeline.valid() && SetParentDeathSignal()) {
    if (getppid() != parent_pid) DieNow();  // it died before prctl
    return;
  }
  absl::StatusOr<Fd> parent = std::move(lifeline);
  if (!parent->valid()) parent = OpenPidfd(parent_pid);
  // Still our parent after the open: the pidfd names it, not a reused pid
  // (and a lifeline held since the start is the parent's own).
  if (getppid() != parent_pid) DieNow();
  if (!parent.ok()) {
    Warn(parent.status().ToString());
    return;
  }
  try {
    std::thread(WatchParent, *std::move(parent), parent_pid).detach();
  } catch (const std::system_error& e) {
    Warn(e.what());
  }
}

void RunChildAndExit(Backend* backend, const LaunchRequest& request,
                     std::shared_ptr<Listener> listener,
                     std::vector<std::shared_ptr<SharedObject>> handovers) {
  const ExitStatus status =
      RunChild(request, ChildRuntime{.pid = getpid(),
                                     .backend = backend,
                                     .owns_process = true,
                                     .listener = std::move(listener),
                                     .handovers = std::move(handovers)});
  std::fflush(nullptr);
  if (status.signaled()) {
    // Not expected in a real process (no cancellation flag), but honoured.
    const int signal = status.signal();
    (void)::signal(signal, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, signal);
    (void)sigprocmask(SIG_UNBLOCK, &only, nullptr);
    (void)raise(signal);
    _exit(128 + signal);
  }
  _exit(status.code());
}

}  // namespace mproc::posix
