// Pipe and Connection (api/pipe.h) between processes; the raw baseline,
// BM_RawSocketpairRoundTrip, is in raw_baselines.cc, so the ratio (issue 12's
// goal: at most 1.2x) comes from one run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>

#include "api/context.h"
#include "api/pipe.h"
#include "api/process.h"
#include "api/target.h"
#include "bench/bench_util.h"
#include "workloads/message_passing.h"

namespace mproc::bench {
namespace {

// One Send of a small value (an int64_t) to a child that echoes it, and the
// Recv of the echo, per iteration: the Pipe counterpart of
// BM_RawSocketpairRoundTrip, on the same forking context.
void BM_PipeRoundTrip(benchmark::State& state) {
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  absl::StatusOr<std::pair<Connection, Connection>> pipe = context->Pipe();
  if (SkipIfError(state, pipe.status())) return;
  auto& [mine, theirs] = *pipe;
  Process echo = context->NewProcess(Target(&workloads::EchoMessages, theirs));
  if (SkipIfError(state, echo.Start())) return;
  theirs.Close();
  int64_t value = 0;
  for (auto _ : state) {
    if (SkipIfError(state, mine.Send(value))) break;
    absl::StatusOr<int64_t> back = mine.Recv<int64_t>();
    if (!back.ok() && SkipIfError(state, back.status())) break;
    benchmark::DoNotOptimize(back);
    ++value;
  }
  mine.Close();  // the echo child sees end-of-stream and returns
  if (SkipIfError(state, echo.Join())) return;
  if (SkipUnlessExitedCleanly(state, echo)) return;
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PipeRoundTrip)->Apply(WaitingBenchmark);

}  // namespace
}  // namespace mproc::bench
