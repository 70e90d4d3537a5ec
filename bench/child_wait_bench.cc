// POSIX only: what the posix backend's portable path costs a wait for a
// child's end (docs/design.md §5, "posix on POSIX alone"). Both ways in one
// run: the Linux path (poll the child's pidfd, then waitid) and the portable
// one (waitid(WNOHANG) with posix_child.cc's PollBackoff). The child is a raw
// fork that sleeps for the argument's milliseconds (0: it _exits at once),
// so the figure is start + run + the wait's lag behind the child's end.
#include <benchmark/benchmark.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/time/time.h"
#include "backends/posix/poll_timeout.h"
#include "bench/bench_util.h"

namespace mproc::bench {
namespace {

// Forks a child that sleeps `ms` and exits 0, or -1.
pid_t ForkSleeper(int ms) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (ms > 0) (void)poll(nullptr, 0, ms);
    _exit(0);
  }
  return pid;
}

// True once `pid` has ended and been reaped (WNOHANG), or on an error.
bool Reaped(pid_t pid) {
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) != 0) {
    return errno != EINTR;
  }
  return info.si_pid != 0;
}

// Each iteration forks a child living state.range(0) ms and waits for it
// with `wait_for(pid)`, which returns once it has reaped the child.
template <typename WaitFn>
void ForkWaitLoop(benchmark::State& state, WaitFn wait_for) {
  for (auto _ : state) {
    const pid_t pid = ForkSleeper(static_cast<int>(state.range(0)));
    if (pid < 0) {
      state.SkipWithError("fork failed");
      break;
    }
    wait_for(pid);
  }
}

void BM_ChildWaitBackoff(benchmark::State& state) {
  ForkWaitLoop(state, [](pid_t pid) {
    posix::PollBackoff backoff;
    while (!Reaped(pid)) backoff.Pause(absl::InfiniteFuture());
  });
}
BENCHMARK(BM_ChildWaitBackoff)
    ->Arg(0)
    ->Arg(5)
    ->Arg(20)
    ->Apply(WaitingBenchmark);

#ifdef SYS_pidfd_open
void BM_ChildWaitPidfd(benchmark::State& state) {
  ForkWaitLoop(state, [](pid_t pid) {
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
      pollfd ended{.fd = pidfd, .events = POLLIN, .revents = 0};
      while (poll(&ended, 1, -1) < 0 && errno == EINTR) {
      }
      (void)close(pidfd);
    }
    while (!Reaped(pid)) {
    }
  });
}
BENCHMARK(BM_ChildWaitPidfd)->Arg(0)->Arg(5)->Arg(20)->Apply(WaitingBenchmark);
#endif

}  // namespace
}  // namespace mproc::bench
