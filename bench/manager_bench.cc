// The Manager on the forking context (ForkingContext(): posix:fork where it
// is built; docs/design.md §7): a synchronous call (Size), a
// child's pipelined appends, start+shutdown; and two CPU-bound children in
// parallel against the same work in sequence.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "api/context.h"
#include "api/manager.h"
#include "api/process.h"
#include "api/target.h"
#include "bench/bench_util.h"
#include "workloads/workloads.h"

namespace mproc::bench {
namespace {

// How many doubles the child of BM_ManagerAppendFromChild appends.
constexpr int64_t kAppendCount = 100000;

// BurnCpu rounds per child in BM_TwoChildrenCpuSpeedup (about 0.16 s on a
// 2-vCPU VM, so the ~1 ms start cost is lost in it).
constexpr int64_t kBurnIterations = 100'000'000;

// One synchronous call per iteration against a running Manager.
void BM_ManagerSize(benchmark::State& state) {
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  absl::StatusOr<Manager> manager = context->StartManager();
  if (SkipIfError(state, manager.status())) return;
  absl::StatusOr<ListProxy<double>> list = manager->List<double>();
  if (SkipIfError(state, list.status())) return;
  if (SkipIfError(state, list->Append(1.0))) return;
  for (auto _ : state) {
    absl::StatusOr<int64_t> size = list->Size();
    if (SkipIfError(state, size.status())) break;
    benchmark::DoNotOptimize(*size);
  }
  if (!state.error_occurred()) SkipIfError(state, manager->Shutdown());
}
BENCHMARK(BM_ManagerSize)->Apply(WaitingBenchmark);

// A child appends kAppendCount doubles one Append at a time (workloads::
// DoSomething); timed from Start until the parent's Size() sees them all.
// Each iteration gets a fresh list (made outside the timed part).
void BM_ManagerAppendFromChild(benchmark::State& state) {
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  absl::StatusOr<Manager> manager = context->StartManager();
  if (SkipIfError(state, manager.status())) return;
  for (auto _ : state) {
    state.PauseTiming();
    absl::StatusOr<ListProxy<double>> list = manager->List<double>();
    state.ResumeTiming();
    if (SkipIfError(state, list.status())) break;
    Process child = context->NewProcess(
        Target(&workloads::DoSomething, kAppendCount, *list));
    if (SkipIfError(state, child.Start())) break;
    if (SkipIfError(state, child.Join())) break;
    if (SkipUnlessExitedCleanly(state, child)) break;
    absl::StatusOr<int64_t> size = list->Size();
    if (SkipIfError(state, size.status())) break;
    if (*size != kAppendCount) {
      state.SkipWithError(
          absl::StrCat("the parent sees ", *size, " items, not ", kAppendCount)
              .c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kAppendCount);
  if (!state.error_occurred()) SkipIfError(state, manager->Shutdown());
}
BENCHMARK(BM_ManagerAppendFromChild)->Apply(WaitingBenchmark);

// A Manager on the forking context and an empty int64 dict in it, or
// std::nullopt with `state` skipped.
struct DictBench {
  Manager manager;
  DictProxy<int64_t, int64_t> dict;
};
std::optional<DictBench> StartDictOrSkip(benchmark::State& state) {
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return std::nullopt;
  absl::StatusOr<Manager> manager = context->StartManager();
  if (SkipIfError(state, manager.status())) return std::nullopt;
  absl::StatusOr<DictProxy<int64_t, int64_t>> dict =
      manager->Dict<int64_t, int64_t>();
  if (SkipIfError(state, dict.status())) return std::nullopt;
  return DictBench{*std::move(manager), *std::move(dict)};
}

// One synchronous dict set (DictProxy::SetSync: a round trip to the server)
// per iteration; issue 12's goal is at most 1.5x BM_RawSocketpairRoundTrip
// (raw_baselines.cc), run in the same invocation. CPython 3.11's manager
// dict set: 18-20 k/s on this machine.
void BM_ManagerDictSet(benchmark::State& state) {
  std::optional<DictBench> bench = StartDictOrSkip(state);
  if (!bench) return;
  Manager* manager = &bench->manager;
  DictProxy<int64_t, int64_t>* dict = &bench->dict;
  int64_t i = 0;
  for (auto _ : state) {
    if (SkipIfError(state, dict->SetSync(i & 1023, i))) break;
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  if (!state.error_occurred()) SkipIfError(state, manager->Shutdown());
}
BENCHMARK(BM_ManagerDictSet)->Apply(WaitingBenchmark);

// Pipelined dict sets (DictProxy::Set), 1024 per iteration, then one Size
// that waits until the server has applied them all.
void BM_ManagerDictSetPipelined(benchmark::State& state) {
  constexpr int64_t kBatch = 1024;
  std::optional<DictBench> bench = StartDictOrSkip(state);
  if (!bench) return;
  Manager* manager = &bench->manager;
  DictProxy<int64_t, int64_t>* dict = &bench->dict;
  int64_t i = 0;
  for (auto _ : state) {
    for (int64_t k = 0; k < kBatch; ++k, ++i) {
      if (SkipIfError(state, dict->Set(k, i))) break;
    }
    absl::StatusOr<int64_t> size = dict->Size();
    if (SkipIfError(state, size.status())) break;
    benchmark::DoNotOptimize(*size);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  if (!state.error_occurred()) SkipIfError(state, manager->Shutdown());
}
BENCHMARK(BM_ManagerDictSetPipelined)->Apply(WaitingBenchmark);

// StartManager + Shutdown per iteration.
void BM_ManagerStartShutdown(benchmark::State& state) {
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  for (auto _ : state) {
    absl::StatusOr<Manager> manager = context->StartManager();
    if (SkipIfError(state, manager.status())) break;
    if (SkipIfError(state, manager->Shutdown())) break;
  }
}
BENCHMARK(BM_ManagerStartShutdown)->Apply(WaitingBenchmark);

// Puts a new child running BurnCpu(kBurnIterations) in `slot` and starts it.
absl::Status StartBurner(const Context& context, std::optional<Process>& slot) {
  slot.emplace(
      context.NewProcess(Target(&workloads::BurnCpu, kBurnIterations)));
  return slot->Start();
}

// Runs two burners, both started before either is joined when `parallel`,
// else one after the other; returns the wall time in seconds.
absl::StatusOr<double> RunBurners(const Context& context, bool parallel) {
  const auto start = std::chrono::steady_clock::now();
  std::optional<Process> first, second;
  if (absl::Status s = StartBurner(context, first); !s.ok()) return s;
  if (!parallel) {
    if (absl::Status s = first->Join(); !s.ok()) return s;
  }
  if (absl::Status s = StartBurner(context, second); !s.ok()) return s;
  if (absl::Status s = first->Join(); !s.ok()) return s;
  if (absl::Status s = second->Join(); !s.ok()) return s;
  for (const std::optional<Process>* p : {&first, &second}) {
    if ((*p)->exitcode() != 0) {
      return absl::InternalError(
          absl::StrCat((*p)->ToString(), " did not exit with 0"));
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// Each iteration runs the two burners in sequence and in parallel (the order
// alternates, so drift in the machine's load hits both alike). The reported
// time is the parallel run's; counter `speedup` = sequential / parallel time,
// `sequential_ns` and `parallel_ns` the mean times of one run of each.
void BM_TwoChildrenCpuSpeedup(benchmark::State& state) {
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  double sequential_total = 0;
  double parallel_total = 0;
  bool parallel_first = false;
  for (auto _ : state) {
    parallel_first = !parallel_first;
    absl::StatusOr<double> a = RunBurners(*context, parallel_first);
    if (SkipIfError(state, a.status())) break;
    absl::StatusOr<double> b = RunBurners(*context, !parallel_first);
    if (SkipIfError(state, b.status())) break;
    const double parallel = parallel_first ? *a : *b;
    sequential_total += parallel_first ? *b : *a;
    parallel_total += parallel;
    state.SetIterationTime(parallel);
  }
  if (parallel_total > 0) {
    state.counters["speedup"] = sequential_total / parallel_total;
    state.counters["sequential_ns"] = benchmark::Counter(
        sequential_total * 1e9, benchmark::Counter::kAvgIterations);
    state.counters["parallel_ns"] = benchmark::Counter(
        parallel_total * 1e9, benchmark::Counter::kAvgIterations);
  }
}
BENCHMARK(BM_TwoChildrenCpuSpeedup)
    ->UseManualTime()
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

}  // namespace
}  // namespace mproc::bench
