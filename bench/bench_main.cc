// build/bench/mproc_bench: raw system calls and mproc side by side, so that
// every ratio of docs/design.md §7 comes from one run (scripts/bench prints
// them).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>

#include "api/target.h"
#include "bench/bench_util.h"

// The raw posix_spawn(self) child exits before anything else; a posix:spawn
// child runs its target and exits in RunChildIfRequested; the parent runs the
// benchmarks.
int main(int argc, char** argv) {
  if (argc == 2 &&
      std::strcmp(argv[1], mproc::bench::kExitImmediatelyFlag) == 0) {
    std::_Exit(0);
  }
  mproc::RunChildIfRequested(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
