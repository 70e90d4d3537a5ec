// POSIX only: the raw baseline of BM_LockPingPong: the same hand-off with
// two bare process-shared sem_t in one MAP_SHARED page, between this process
// and a forked child.
#include <benchmark/benchmark.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "bench/bench_util.h"

namespace mproc::bench {
namespace {

struct PingPong {
  sem_t ping;
  sem_t pong;
  std::atomic<int> stop{0};
};

void BM_RawSemaphorePingPong(benchmark::State& state) {
  void* page = mmap(nullptr, sizeof(PingPong), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) {
    state.SkipWithError("mmap failed");
    return;
  }
  auto* shared = new (page) PingPong;
  sem_init(&shared->ping, 1, 0);
  sem_init(&shared->pong, 1, 0);
  const pid_t pid = fork();
  if (pid == 0) {
    for (;;) {
      while (sem_wait(&shared->ping) != 0 && errno == EINTR) {
      }
      if (shared->stop.load() != 0) _exit(0);
      sem_post(&shared->pong);
    }
  }
  if (pid < 0) {
    state.SkipWithError("fork failed");
  } else {
    for (auto _ : state) {
      sem_post(&shared->ping);
      while (sem_wait(&shared->pong) != 0 && errno == EINTR) {
      }
    }
    shared->stop.store(1);
    sem_post(&shared->ping);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    state.SetItemsProcessed(state.iterations());
  }
  munmap(page, sizeof(PingPong));
}
BENCHMARK(BM_RawSemaphorePingPong)->Apply(WaitingBenchmark);

}  // namespace
}  // namespace mproc::bench
