// Pool (api/pool.h) on the forking context: the four goals of issue 13
// (docs/design.md §8; CPython 3.11 on this VM in brackets):
//   - BM_PoolMapTrivial: Pool(2) Map of a trivial function over int64_t
//     inputs, at least 10 M items/s [0.83-0.93 M items/s];
//   - BM_PoolApplyAsync: ApplyAsync of a trivial function, at least 150 k
//     tasks/s [12-16 k/s];
//   - BM_PoolStartClose: Pool(2) create, a small Map, Close and Join, at most
//     6x BM_RawForkWaitpid (raw_baselines.cc, same run) [139 ms];
//   - BM_PoolCpuSpeedup against BM_PoolCpuSerial: CPU-bound items on two
//     workers at least 1.85x faster than the same items run here, one after
//     the other.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/async_result.h"
#include "api/context.h"
#include "api/pool.h"
#include "bench/bench_util.h"
#include "workloads/pool.h"

namespace mproc::bench {
namespace {

// How many workers every Pool here has: the goals are set for Pool(2), and
// the machine the figures come from has two CPUs.
constexpr int64_t kWorkers = 2;

// How long a benchmark waits for one result, or for its workers to end,
// before it fails rather than hangs.
constexpr absl::Duration kPatience = absl::Seconds(60);

// The inputs 0, 1, ..., n - 1.
std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> inputs(static_cast<size_t>(n));
  std::iota(inputs.begin(), inputs.end(), int64_t{0});
  return inputs;
}

// A Pool of kWorkers workers on `context`, or std::nullopt after marking the
// benchmark failed.
std::optional<Pool> PoolOrSkip(benchmark::State& state,
                               const Context& context) {
  absl::StatusOr<Pool> pool = Pool::Create(context, {.processes = kWorkers});
  if (SkipIfError(state, pool.status())) return std::nullopt;
  return *std::move(pool);
}

// Closes `pool` and waits for its workers to end; marks the benchmark failed
// (unless it already is) when either step fails.
void CloseAndJoin(benchmark::State& state, Pool& pool) {
  const absl::Status closed = pool.Close();
  if (state.error_occurred()) return;
  if (SkipIfError(state, closed)) return;
  SkipIfError(state, pool.Join(kPatience));
}

// Throughput of Map with a trivial task: one iteration maps
// workloads::Square over 1,000,000 inputs on a Pool of two workers created
// before the timed loop. What is measured is the Pool's own cost per item
// (encoding the argument, the chunk's frames, decoding the result), since
// the task itself costs a nanosecond. Arg: the chunksize, 0 being CPython's
// default ceil(n / (4 * processes)) (125,000 items per chunk here).
void BM_PoolMapTrivial(benchmark::State& state) {
  constexpr int64_t kItems = 1'000'000;
  const size_t chunksize = static_cast<size_t>(state.range(0));
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  std::optional<Pool> pool = PoolOrSkip(state, *context);
  if (!pool) return;
  const std::vector<int64_t> inputs = Iota(kItems);
  for (auto _ : state) {
    absl::StatusOr<std::vector<int64_t>> squares =
        pool->Map(&workloads::Square, inputs, chunksize);
    if (SkipIfError(state, squares.status())) break;
    if (squares->size() != inputs.size() ||
        squares->back() != inputs.back() * inputs.back()) {
      state.SkipWithError("Map returned wrong results");
      break;
    }
    benchmark::DoNotOptimize(squares);
  }
  CloseAndJoin(state, *pool);
  state.SetItemsProcessed(state.iterations() * kItems);
}
BENCHMARK(BM_PoolMapTrivial)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Throughput of ApplyAsync with a trivial task: one iteration submits
// kTasks ApplyAsync(&workloads::Square, i), all outstanding at once, then
// Gets every result, on a Pool of two workers created before the timed loop.
// Each task is its own batch (one frame to a worker and one back), so this
// measures the dispatcher's cost per batch.
void BM_PoolApplyAsync(benchmark::State& state) {
  constexpr int64_t kTasks = 10'000;
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  std::optional<Pool> pool = PoolOrSkip(state, *context);
  if (!pool) return;
  std::vector<AsyncResult<int64_t>> results;
  results.reserve(kTasks);
  for (auto _ : state) {
    results.clear();
    for (int64_t i = 0; i < kTasks; ++i) {
      results.push_back(pool->ApplyAsync(&workloads::Square, i));
    }
    for (int64_t i = 0; i < kTasks; ++i) {
      absl::StatusOr<int64_t> square =
          results[static_cast<size_t>(i)].Get(kPatience);
      if (!square.ok() && SkipIfError(state, square.status())) break;
      if (*square != i * i) {
        state.SkipWithError("ApplyAsync returned a wrong result");
        break;
      }
    }
    if (state.error_occurred()) break;
  }
  CloseAndJoin(state, *pool);
  state.SetItemsProcessed(state.iterations() * kTasks);
}
BENCHMARK(BM_PoolApplyAsync)->Unit(benchmark::kMillisecond)->UseRealTime();

// A Pool's whole life, as `with Pool(2) as p: p.map(f, range(10))` in
// CPython: one iteration creates a Pool of two workers (two forks and the
// dispatcher thread), maps workloads::Square over 10 inputs, Closes it and
// Joins it (every worker reaped, the dispatcher joined). Compared with
// BM_RawForkWaitpid, one bare fork+_exit+waitpid.
void BM_PoolStartClose(benchmark::State& state) {
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  const std::vector<int64_t> inputs = Iota(10);
  for (auto _ : state) {
    std::optional<Pool> pool = PoolOrSkip(state, *context);
    if (!pool) break;
    absl::StatusOr<std::vector<int64_t>> squares =
        pool->Map(&workloads::Square, inputs);
    if (SkipIfError(state, squares.status())) break;
    benchmark::DoNotOptimize(squares);
    CloseAndJoin(state, *pool);
    if (state.error_occurred()) break;
  }
}
BENCHMARK(BM_PoolStartClose)->Apply(WaitingBenchmark);

// The CPU-bound pair: kCpuItems items of workloads::SpinWork(kSpinRounds)
// (several milliseconds each), run one after the other in this process
// (BM_PoolCpuSerial) or mapped with chunksize 1 on a Pool of two workers
// created before the timed loop (BM_PoolCpuSpeedup). The ratio of their
// real times is the Pool's speed-up on two CPUs; 2.0 is the ceiling.
constexpr int64_t kCpuItems = 16;
constexpr int64_t kSpinRounds = 4'000'000;

void BM_PoolCpuSerial(benchmark::State& state) {
  const std::vector<int64_t> inputs(kCpuItems, kSpinRounds);
  for (auto _ : state) {
    for (const int64_t rounds : inputs) {
      benchmark::DoNotOptimize(workloads::SpinWork(rounds));
    }
  }
  state.SetItemsProcessed(state.iterations() * kCpuItems);
}
BENCHMARK(BM_PoolCpuSerial)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PoolCpuSpeedup(benchmark::State& state) {
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  std::optional<Pool> pool = PoolOrSkip(state, *context);
  if (!pool) return;
  const std::vector<int64_t> inputs(kCpuItems, kSpinRounds);
  for (auto _ : state) {
    absl::StatusOr<std::vector<int64_t>> results =
        pool->Map(&workloads::SpinWork, inputs, /*chunksize=*/1);
    if (SkipIfError(state, results.status())) break;
    benchmark::DoNotOptimize(results);
  }
  CloseAndJoin(state, *pool);
  state.SetItemsProcessed(state.iterations() * kCpuItems);
}
BENCHMARK(BM_PoolCpuSpeedup)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace mproc::bench
