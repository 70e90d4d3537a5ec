// POSIX only: the raw system-call floors the mproc benchmarks are divided by
// (docs/design.md §7): fork+_exit+waitpid, posix_spawn of this binary+waitpid,
// one round trip on a socketpair to a forked echo child, and 8-byte items
// through a pipe from a forked child.
#include <benchmark/benchmark.h>
#include <errno.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"

namespace mproc::bench {
namespace {

// Marks the benchmark failed with `what` and errno `error`'s text.
void SkipWithErrno(benchmark::State& state, absl::string_view what, int error) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(error));
  state.SkipWithError(message.c_str());
}

// Reaps `pid`; returns its wait status, or -1 with errno set.
int Reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

// Reaps `pid` and marks the benchmark failed unless it exited with 0;
// returns true when it did.
bool ReapOrSkip(benchmark::State& state, pid_t pid) {
  const int status = Reap(pid);
  if (status < 0) {
    SkipWithErrno(state, "waitpid", errno);
    return true;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    state.SkipWithError(
        absl::StrCat("raw child ended with wait status ", status).c_str());
    return true;
  }
  return false;
}

// fork; the child _exits at once; waitpid.
void RawForkLoop(benchmark::State& state) {
  for (auto _ : state) {
    const pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0) {
      SkipWithErrno(state, "fork", errno);
      break;
    }
    if (ReapOrSkip(state, pid)) break;
  }
}

// posix_spawn of /proc/self/exe with kExitImmediatelyFlag (main _exits before
// anything else, so the child costs exec + loading + static initialisation of
// this binary, as the posix:spawn child does); waitpid.
void RawSpawnSelfLoop(benchmark::State& state) {
  std::string flag = kExitImmediatelyFlag;
  char* argv[] = {program_invocation_name, flag.data(), nullptr};
  for (auto _ : state) {
    pid_t pid = 0;
    const int error =
        posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, environ);
    if (error != 0) {
      SkipWithErrno(state, "posix_spawn(/proc/self/exe)", error);
      break;
    }
    if (ReapOrSkip(state, pid)) break;
  }
}

void BM_RawForkWaitpid(benchmark::State& state) { RawForkLoop(state); }
BENCHMARK(BM_RawForkWaitpid)->Apply(WaitingBenchmark);

void BM_RawPosixSpawnSelf(benchmark::State& state) { RawSpawnSelfLoop(state); }
BENCHMARK(BM_RawPosixSpawnSelf)->Apply(WaitingBenchmark);

void BM_RawForkWaitpid256M(benchmark::State& state) {
  const Ballast ballast;
  RawForkLoop(state);
}
BENCHMARK(BM_RawForkWaitpid256M)->Apply(WaitingBenchmark);

void BM_RawPosixSpawnSelf256M(benchmark::State& state) {
  const Ballast ballast;
  RawSpawnSelfLoop(state);
}
BENCHMARK(BM_RawPosixSpawnSelf256M)->Apply(WaitingBenchmark);

// The size of one request and of its echo, about a Manager Size call's.
constexpr size_t kMessageBytes = 16;

// The echo child: writes back whatever it reads until end of file.
[[noreturn]] void Echo(int fd) {
  char buffer[256];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n == 0) _exit(0);
    if (n < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = write(fd, buffer + done, static_cast<size_t>(n - done));
      if (w < 0 && errno != EINTR) _exit(1);
      if (w > 0) done += w;
    }
  }
}

// Sends `kMessageBytes` and reads as many back; false (errno set) on error.
bool RoundTrip(int fd) {
  char message[kMessageBytes] = {};
  if (write(fd, message, sizeof(message)) != sizeof(message)) return false;
  for (size_t done = 0; done < sizeof(message);) {
    const ssize_t n = read(fd, message + done, sizeof(message) - done);
    if (n == 0) {
      errno = EPIPE;
      return false;
    }
    if (n < 0 && errno != EINTR) return false;
    if (n > 0) done += static_cast<size_t>(n);
  }
  return true;
}

// One small write and the read of its echo per iteration, on a stream
// socketpair to a forked child: the floor of a synchronous Manager call.
void BM_RawSocketpairRoundTrip(benchmark::State& state) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    SkipWithErrno(state, "socketpair", errno);
    return;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(pair[0]);
    Echo(pair[1]);
  }
  close(pair[1]);
  if (pid < 0) {
    SkipWithErrno(state, "fork", errno);
    close(pair[0]);
    return;
  }
  for (auto _ : state) {
    if (!RoundTrip(pair[0])) {
      SkipWithErrno(state, "socketpair round trip", errno);
      break;
    }
  }
  close(pair[0]);  // the child reads end of file and exits
  if (!state.error_occurred())
    ReapOrSkip(state, pid);
  else
    Reap(pid);
}
BENCHMARK(BM_RawSocketpairRoundTrip)->Apply(WaitingBenchmark);

// The floor BM_QueueThroughput (queue_bench.cc) is compared with: a forked
// child writes kRawItems 8-byte items to a pipe, one write() each, and this
// process reads them, one read() each (the child's fork and reaping
// included, as the Queue's producer's start and join are).
void BM_RawPipeThroughput(benchmark::State& state) {
  constexpr int64_t kRawItems = 100'000;
  for (auto _ : state) {
    int fds[2];
    if (pipe(fds) != 0) {
      SkipWithErrno(state, "pipe", errno);
      return;
    }
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      for (int64_t i = 0; i < kRawItems; ++i) {
        if (write(fds[1], &i, sizeof(i)) != static_cast<ssize_t>(sizeof(i))) {
          _exit(1);
        }
      }
      _exit(0);
    }
    close(fds[1]);
    if (pid < 0) {
      SkipWithErrno(state, "fork", errno);
      close(fds[0]);
      return;
    }
    for (int64_t i = 0; i < kRawItems; ++i) {
      int64_t item = 0;
      // A pipe delivers 8-byte writes whole (below PIPE_BUF).
      if (read(fds[0], &item, sizeof(item)) !=
              static_cast<ssize_t>(sizeof(item)) ||
          item != i) {
        SkipWithErrno(state, "pipe read", errno);
        break;
      }
      benchmark::DoNotOptimize(item);
    }
    close(fds[0]);
    if (ReapOrSkip(state, pid)) return;
  }
  state.SetItemsProcessed(state.iterations() * kRawItems);
}
BENCHMARK(BM_RawPipeThroughput)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace mproc::bench
