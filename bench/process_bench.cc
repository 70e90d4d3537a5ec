// Process start+join on every context, next to std::thread create+join
// (docs/design.md §7). The raw fork and posix_spawn baselines are in
// raw_baselines.cc.
#include <benchmark/benchmark.h>

#include <optional>
#include <thread>

#include "absl/strings/string_view.h"
#include "api/context.h"
#include "api/process.h"
#include "api/target.h"
#include "bench/bench_util.h"

namespace mproc::bench {
namespace {

// Each iteration starts one child of `context_name` running Noop and joins
// it; the Process is destroyed inside the iteration, so its cleanup counts.
void StartJoinLoop(benchmark::State& state, absl::string_view context_name) {
  const std::optional<Context> context = ContextOrSkip(state, context_name);
  if (!context) return;
  for (auto _ : state) {
    Process process = context->NewProcess(Target(&Noop));
    if (SkipIfError(state, process.Start())) break;
    if (SkipIfError(state, process.Join())) break;
    if (SkipUnlessExitedCleanly(state, process)) break;
  }
}

// The floor of the thread backend: a std::thread that does nothing.
void BM_RawThreadCreateJoin(benchmark::State& state) {
  for (auto _ : state) {
    std::thread thread([] {});
    thread.join();
  }
}
BENCHMARK(BM_RawThreadCreateJoin)->Apply(WaitingBenchmark);

void BM_ThreadStartJoin(benchmark::State& state) {
  StartJoinLoop(state, "thread");
}
BENCHMARK(BM_ThreadStartJoin)->Apply(WaitingBenchmark);

void BM_ForkStartJoin(benchmark::State& state) {
  StartJoinLoop(state, "posix:fork");
}
BENCHMARK(BM_ForkStartJoin)->Apply(WaitingBenchmark);

void BM_SpawnStartJoin(benchmark::State& state) {
  StartJoinLoop(state, "posix:spawn");
}
BENCHMARK(BM_SpawnStartJoin)->Apply(WaitingBenchmark);

// posix:forkserver: the server is started before the timed loop (once per
// process, as in an application), so each iteration is one Start and Join.
void ForkServerStartJoinLoop(benchmark::State& state) {
  const std::optional<Context> context =
      ContextOrSkip(state, "posix:forkserver");
  if (!context) return;
  Process warm = context->NewProcess(Target(&Noop));
  if (SkipIfError(state, warm.Start())) return;
  if (SkipIfError(state, warm.Join())) return;
  StartJoinLoop(state, "posix:forkserver");
}

void BM_ForkserverStartJoin(benchmark::State& state) {
  ForkServerStartJoinLoop(state);
}
BENCHMARK(BM_ForkserverStartJoin)->Apply(WaitingBenchmark);

// Flat in the parent's size: the server forks, not the parent.
void BM_ForkserverStartJoin256M(benchmark::State& state) {
  const Ballast ballast;
  ForkServerStartJoinLoop(state);
}
BENCHMARK(BM_ForkserverStartJoin256M)->Apply(WaitingBenchmark);

void BM_ForkStartJoin256M(benchmark::State& state) {
  const Ballast ballast;
  StartJoinLoop(state, "posix:fork");
}
BENCHMARK(BM_ForkStartJoin256M)->Apply(WaitingBenchmark);

void BM_SpawnStartJoin256M(benchmark::State& state) {
  const Ballast ballast;
  StartJoinLoop(state, "posix:spawn");
}
BENCHMARK(BM_SpawnStartJoin256M)->Apply(WaitingBenchmark);

}  // namespace
}  // namespace mproc::bench
