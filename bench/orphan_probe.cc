// POSIX only: build/bench/orphan_probe, one run of the "parent SIGKILL ->
// daemon children and Manager gone" scenario (issue 4), timed.
//
// The probe forks an intermediate process that, through mproc "posix:fork",
// starts a Manager and a daemon child (both kill_on_parent_death by default)
// and reports their pids through a pipe. The probe opens a pidfd on each,
// SIGKILLs the intermediate, and polls the pidfds until both have ended.
// It prints the microseconds from the SIGKILL until the last one ended, and
// exits 0; or prints the reason on stderr and exits 1 (a child still alive
// after the 10 s deadline is one: the probe then kills it itself).
//
// The probe is a child subreaper, so the orphans are reparented to it and it
// reaps them: nothing is left behind either way.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "api/context.h"
#include "api/manager.h"
#include "api/process.h"
#include "api/target.h"
#include "workloads/workloads.h"

namespace {

// How long the probe waits for the orphans before calling it a failure.
constexpr auto kDeadline = std::chrono::seconds(10);

// The daemon child's sleep: far longer than any run of the probe.
constexpr int64_t kDaemonSleepMillis = 3'600'000;

// Prints `message` to stderr.
void Complain(const std::string& message) {
  std::fprintf(stderr, "orphan_probe: %s\n", message.c_str());
}

// Writes all of `bytes` to `fd`.
bool WriteAll(int fd, const void* bytes, size_t size) {
  const char* p = static_cast<const char*>(bytes);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes from `fd`; false on error or early end of file.
bool ReadAll(int fd, void* bytes, size_t size) {
  char* p = static_cast<char*>(bytes);
  while (size > 0) {
    const ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// The intermediate process: starts a Manager and a daemon child through
// posix:fork, writes their pids (two int64_t: daemon, manager) to
// `report_fd`, then waits to be killed. Returns only on error.
absl::Status RunIntermediate(int report_fd) {
  absl::StatusOr<mproc::Context> context = mproc::GetContext("posix:fork");
  if (!context.ok()) return context.status();
  absl::StatusOr<mproc::Manager> manager = context->StartManager();
  if (!manager.ok()) return manager.status();
  // A round trip: the server is up and serving before the probe kills us.
  absl::StatusOr<mproc::ListProxy<double>> list = manager->List<double>();
  if (!list.ok()) return list.status();
  mproc::Process daemon = context->NewProcess(
      mproc::Target(&mproc::workloads::SleepMillis, kDaemonSleepMillis),
      {.daemon = true});
  if (absl::Status s = daemon.Start(); !s.ok()) return s;
  const std::optional<int64_t> manager_pid = manager->pid();
  if (!daemon.pid() || !manager_pid) {
    return absl::InternalError("a started child has no pid");
  }
  const int64_t pids[2] = {*daemon.pid(), *manager_pid};
  if (!WriteAll(report_fd, pids, sizeof(pids))) {
    return absl::InternalError(
        absl::StrCat("write(report pipe): ", std::strerror(errno)));
  }
  while (true) pause();
}

// pidfd_open(2) (glibc 2.36 has no wrapper in Debian 12's headers).
int PidfdOpen(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

// Kills every process in `pidfds` that is still running, with SIGKILL.
void KillSurvivors(const std::vector<pollfd>& pidfds) {
  for (const pollfd& p : pidfds) {
    if (p.fd >= 0) syscall(SYS_pidfd_send_signal, p.fd, SIGKILL, nullptr, 0);
  }
}

// Reaps every child of the probe (the intermediate and, reparented to the
// subreaper, the orphans).
void ReapAll() {
  while (waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
  }
}

// One run of the scenario; returns the exit code of the probe.
int RunProbe() {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    Complain(absl::StrCat("PR_SET_CHILD_SUBREAPER: ", std::strerror(errno)));
    return 1;
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    Complain(absl::StrCat("pipe2: ", std::strerror(errno)));
    return 1;
  }
  const pid_t probe = getpid();
  const pid_t intermediate = fork();
  if (intermediate < 0) {
    Complain(absl::StrCat("fork: ", std::strerror(errno)));
    return 1;
  }
  if (intermediate == 0) {
    close(pipe_fds[0]);
    // The probe's stdout carries its figure only (and a shell reading it
    // would wait for every process holding it).
    const int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd >= 0) {
      dup2(null_fd, STDOUT_FILENO);
      close(null_fd);
    }
    // Nothing outlives a probe that dies itself.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != probe) _exit(1);
    const absl::Status status = RunIntermediate(pipe_fds[1]);
    Complain(absl::StrCat("intermediate: ", status.ToString()));
    // A normal exit: mproc's exit-time rules end what it started.
    std::exit(1);
  }
  close(pipe_fds[1]);

  int64_t pids[2];
  const bool reported = ReadAll(pipe_fds[0], pids, sizeof(pids));
  close(pipe_fds[0]);
  if (!reported) {
    Complain("the intermediate process did not report its children's pids");
    kill(intermediate, SIGKILL);
    ReapAll();
    return 1;
  }
  std::vector<pollfd> pidfds;
  for (const int64_t pid : pids) {
    const int fd = PidfdOpen(static_cast<pid_t>(pid));
    if (fd < 0) {
      Complain(absl::StrCat("pidfd_open(", pid, "): ", std::strerror(errno),
                            " (the child ended before its parent was killed)"));
      // The intermediate still runs, so neither child has been reaped and
      // their pids cannot have been reused yet.
      for (const int64_t child : pids) kill(static_cast<pid_t>(child), SIGKILL);
      kill(intermediate, SIGKILL);
      for (const pollfd& p : pidfds) close(p.fd);
      ReapAll();
      return 1;
    }
    pidfds.push_back(pollfd{.fd = fd, .events = POLLIN, .revents = 0});
  }

  const auto start = std::chrono::steady_clock::now();
  if (kill(intermediate, SIGKILL) != 0) {
    Complain(absl::StrCat("kill(intermediate): ", std::strerror(errno)));
    KillSurvivors(pidfds);
    for (const pollfd& p : pidfds) close(p.fd);
    ReapAll();
    return 1;
  }
  const auto deadline = start + kDeadline;
  size_t running = pidfds.size();
  auto last_gone = start;
  while (running > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    const int timeout_ms = static_cast<int>(
        std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count());
    const int ready = poll(pidfds.data(), pidfds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) {
      Complain(absl::StrCat("poll(pidfd): ", std::strerror(errno)));
      break;
    }
    const auto seen = std::chrono::steady_clock::now();
    for (pollfd& p : pidfds) {
      if (p.fd >= 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        close(p.fd);
        p.fd = -1;  // poll ignores it from now on
        --running;
        last_gone = seen;
      }
    }
  }
  const bool all_gone = running == 0;
  KillSurvivors(pidfds);
  for (const pollfd& p : pidfds) {
    if (p.fd >= 0) close(p.fd);
  }
  ReapAll();
  if (!all_gone) {
    Complain(absl::StrCat(
        running, " of {daemon child ", pids[0], ", Manager ", pids[1],
        "} still ran 10 s after their parent's SIGKILL (killed them now)"));
    return 1;
  }
  std::printf("%lld\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::microseconds>(
                      last_gone - start)
                      .count()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mproc::RunChildIfRequested(argc, argv);
  return RunProbe();
}
