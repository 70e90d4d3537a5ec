// Queue<T> (api/queue.h) from one producer process to one consumer process
// (issue 12's goal: at least 2 M items/s of 8-byte items); the raw baseline,
// BM_RawPipeThroughput (one write and one read per item on a pipe), is in
// raw_baselines.cc, so both come from one run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>

#include "api/context.h"
#include "api/process.h"
#include "api/queue.h"
#include "api/target.h"
#include "bench/bench_util.h"
#include "workloads/message_passing.h"

namespace mproc::bench {
namespace {

// One iteration: a producer child puts kItems int64_t items and this
// process gets them all (the child's start and join included).
void BM_QueueThroughput(benchmark::State& state) {
  constexpr int64_t kItems = 100'000;
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  absl::StatusOr<Queue<int64_t>> queue = Queue<int64_t>::Create(*context);
  if (SkipIfError(state, queue.status())) return;
  for (auto _ : state) {
    Process producer = context->NewProcess(
        Target(&workloads::PutRange, *queue, int64_t{0}, kItems));
    if (SkipIfError(state, producer.Start())) return;
    for (int64_t i = 0; i < kItems; ++i) {
      absl::StatusOr<int64_t> item = queue->Get();
      if (!item.ok() && SkipIfError(state, item.status())) return;
      benchmark::DoNotOptimize(item);
    }
    if (SkipIfError(state, producer.Join())) return;
    if (SkipUnlessExitedCleanly(state, producer)) return;
  }
  state.SetItemsProcessed(state.iterations() * kItems);
}
BENCHMARK(BM_QueueThroughput)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace mproc::bench
