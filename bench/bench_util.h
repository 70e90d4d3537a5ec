// -----------------------------------------------------------------------------
// File: bench/bench_util.h
// -----------------------------------------------------------------------------
//
// What the benchmarks of build/bench/mproc_bench share: the flag that makes
// the binary exit at once (the raw posix_spawn child), the common settings of
// benchmarks that wait, a 256 MiB ballast, and small error helpers.

#ifndef MPROC_BENCH_BENCH_UTIL_H_
#define MPROC_BENCH_BENCH_UTIL_H_

#include <benchmark/benchmark.h>

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/context.h"
#include "api/process.h"

namespace mproc::bench {

// argv[1] that makes mproc_bench `_exit(0)` before anything else: the raw
// posix_spawn(self) baseline runs the binary with it.
inline constexpr char kExitImmediatelyFlag[] = "--bench-exit-immediately";

// How large the parent is in the *256M benchmarks.
inline constexpr size_t kBallastBytes = size_t{256} << 20;

// Applied to every benchmark that waits for another process or thread: real
// time (CPU time hides waiting) and 5 repetitions reported as aggregates.
void WaitingBenchmark(benchmark::internal::Benchmark* benchmark);

// 256 MiB allocated and written (every page touched, so the kernel holds page
// tables for all of it) for as long as the object lives. A *256M benchmark
// holds one for its run, so the other benchmarks keep a small parent whatever
// the order they run in.
class Ballast {
 public:
  Ballast();
  Ballast(const Ballast&) = delete;
  Ballast& operator=(const Ballast&) = delete;

 private:
  std::vector<char> bytes_;
};

// Marks the benchmark failed with `status`'s message when it is not OK;
// returns true when it did (the caller then leaves its loop).
bool SkipIfError(benchmark::State& state, const absl::Status& status);

// The context of the benchmarks that set mproc against a raw fork(): the
// registered backend of highest priority with a start method that runs
// closures, i.e. shares the parent's memory ("posix:fork" on POSIX; the
// thread backend where no process backend is built). Taken from the
// registry, never hard-coded.
std::string ForkingContext();

// The context called `name`, or std::nullopt after marking the benchmark
// failed with the lookup's message (e.g. a backend that is not built).
std::optional<Context> ContextOrSkip(benchmark::State& state,
                                     absl::string_view name);

// Marks the benchmark failed unless `process` ended with exit code 0; returns
// true when it did.
bool SkipUnlessExitedCleanly(benchmark::State& state, const Process& process);

// A registered target that does nothing: the child of the start+join
// benchmarks.
void Noop();

}  // namespace mproc::bench

#endif  // MPROC_BENCH_BENCH_UTIL_H_
