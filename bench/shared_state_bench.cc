// Shared-state primitives (api/synchronize.h) between processes; their raw
// baselines (bare process-shared semaphores) are in raw_semaphore_baseline.cc
// so each ratio comes from one run (issue 11's goals, docs/design.md).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/context.h"
#include "api/process.h"
#include "api/synchronize.h"
#include "api/target.h"
#include "bench/bench_util.h"
#include "workloads/shared_state.h"

namespace mproc::bench {
namespace {

// The partner of BM_LockPingPong: takes `ping` (which the parent released),
// and releases `pong`, until `stop` is set.
absl::Status PingPongPartner(Lock ping, Lock pong, RawValue<int64_t> stop) {
  for (;;) {
    absl::StatusOr<bool> got = ping.Acquire();
    if (!got.ok()) return got.status();
    if (stop.Load() != 0) return absl::OkStatus();
    if (absl::Status s = pong.Release(); !s.ok()) return s;
  }
}
MPROC_REGISTER_TARGET(PingPongPartner);

// Acquire + Release of a free Lock (or RLock) in one process: user space
// only.
template <typename LockType>
void BM_Uncontended(benchmark::State& state) {
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  absl::StatusOr<LockType> lock = LockType::Create(*context);
  if (SkipIfError(state, lock.status())) return;
  for (auto _ : state) {
    absl::StatusOr<bool> got = lock->Acquire();
    benchmark::DoNotOptimize(got);
    (void)lock->Release();
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_LockUncontended(benchmark::State& state) {
  BM_Uncontended<Lock>(state);
}
BENCHMARK(BM_LockUncontended);
void BM_RLockUncontended(benchmark::State& state) {
  BM_Uncontended<RLock>(state);
}
BENCHMARK(BM_RLockUncontended);

// Two processes hand the turn back and forth through two Locks used as
// binary semaphores (a Lock may be released by another process, as in
// CPython): one iteration is one round trip, two hand-offs.
void BM_LockPingPong(benchmark::State& state) {
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  absl::StatusOr<Lock> ping = Lock::Create(*context);
  absl::StatusOr<Lock> pong = Lock::Create(*context);
  absl::StatusOr<RawValue<int64_t>> stop = RawValue<int64_t>::Create(*context);
  if (SkipIfError(state, ping.status()) || SkipIfError(state, pong.status()) ||
      SkipIfError(state, stop.status())) {
    return;
  }
  (void)ping->Acquire();
  (void)pong->Acquire();
  Process partner =
      context->NewProcess(Target(&PingPongPartner, *ping, *pong, *stop));
  if (SkipIfError(state, partner.Start())) return;
  for (auto _ : state) {
    (void)ping->Release();
    absl::StatusOr<bool> back = pong->Acquire();
    if (!back.ok() && SkipIfError(state, back.status())) break;
  }
  stop->Store(1);
  (void)ping->Release();
  if (SkipIfError(state, partner.Join())) return;
  if (SkipUnlessExitedCleanly(state, partner)) return;
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LockPingPong)->Apply(WaitingBenchmark);

// Two processes x 1 M increments of one Value<int64_t> under its lock (an
// RLock, as CPython's synchronized Value); one iteration is the whole run,
// children's start and join included.
void BM_ValueIncrementContended(benchmark::State& state) {
  constexpr int64_t kIncrements = 1'000'000;
  const std::optional<Context> context = ContextOrSkip(state, ForkingContext());
  if (!context) return;
  absl::StatusOr<Value<int64_t>> total = Value<int64_t>::Create(*context, 0);
  if (SkipIfError(state, total.status())) return;
  for (auto _ : state) {
    std::vector<Process> children;
    for (int i = 0; i < 2; ++i) {
      children.push_back(context->NewProcess(
          Target(&workloads::IncrementUnderLock, *total, kIncrements)));
      if (SkipIfError(state, children.back().Start())) return;
    }
    for (Process& child : children) {
      if (SkipIfError(state, child.Join())) return;
      if (SkipUnlessExitedCleanly(state, child)) return;
    }
  }
  state.SetItemsProcessed(state.iterations() * 2 * kIncrements);
}
BENCHMARK(BM_ValueIncrementContended)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace mproc::bench
