#include "bench/bench_util.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "api/backend.h"
#include "api/target.h"

namespace mproc::bench {

void WaitingBenchmark(benchmark::internal::Benchmark* benchmark) {
  benchmark->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
}

Ballast::Ballast() : bytes_(kBallastBytes, '\1') {
  benchmark::DoNotOptimize(bytes_.data());
  benchmark::ClobberMemory();
}

bool SkipIfError(benchmark::State& state, const absl::Status& status) {
  if (status.ok()) return false;
  state.SkipWithError(status.ToString().c_str());
  return true;
}

std::string ForkingContext() {
  for (const Backend* backend : RegisteredBackends()) {
    for (const StartMethod& method : backend->start_methods()) {
      if (method.runs_closures) {
        return absl::StrCat(backend->name(), ":", method.name);
      }
    }
  }
  return "";
}

std::optional<Context> ContextOrSkip(benchmark::State& state,
                                     absl::string_view name) {
  if (name.empty()) {
    state.SkipWithError(
        "no registered backend has a start method that shares the parent's "
        "memory");
    return std::nullopt;
  }
  absl::StatusOr<Context> context = GetContext(name);
  if (SkipIfError(state, context.status())) return std::nullopt;
  return *context;
}

bool SkipUnlessExitedCleanly(benchmark::State& state, const Process& process) {
  const std::optional<int> code = process.exitcode();
  if (code == 0) return false;
  const std::string message =
      absl::StrCat("child ", process.ToString(), " did not exit with 0");
  state.SkipWithError(message.c_str());
  return true;
}

void Noop() {}
MPROC_REGISTER_TARGET(Noop);

}  // namespace mproc::bench
