// posix:fork start+join in a process that has already started and shut down
// many Managers (docs/design.md §7): whatever finished Managers leave behind
// must not make later forks slower. Compare with BM_ForkStartJoin and
// BM_RawForkWaitpid of the same run.
#include <benchmark/benchmark.h>

#include <optional>

#include "absl/status/statusor.h"
#include "api/context.h"
#include "api/manager.h"
#include "api/process.h"
#include "api/target.h"
#include "bench/bench_util.h"

namespace mproc::bench {
namespace {

// Managers started and shut down before the first timed iteration.
constexpr int kManagersBefore = 200;

void BM_ForkStartJoinAfterManagers(benchmark::State& state) {
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  for (int i = 0; i < kManagersBefore; ++i) {
    absl::StatusOr<Manager> manager = context->StartManager();
    if (SkipIfError(state, manager.status())) return;
    if (SkipIfError(state, manager->Shutdown())) return;
  }
  for (auto _ : state) {
    Process process = context->NewProcess(Target(&Noop));
    if (SkipIfError(state, process.Start())) break;
    if (SkipIfError(state, process.Join())) break;
    if (SkipUnlessExitedCleanly(state, process)) break;
  }
}
BENCHMARK(BM_ForkStartJoinAfterManagers)->Apply(WaitingBenchmark);

}  // namespace
}  // namespace mproc::bench
