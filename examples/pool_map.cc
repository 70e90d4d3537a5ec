// Pool: squares 0..999 on a Pool of two workers and prints the sum; then a
// task ends its worker mid-task, that task alone fails, the Pool replaces
// the worker (the new one is named), and the same Map gives the same sum. Runs
// on every context
// (--backend, --start_method).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/exit.h"
#include "api/pool.h"
#include "examples/example_context.h"

namespace {

constexpr int64_t kItems = 1000;
constexpr int64_t kWorkers = 2;

int64_t SquareOf(int64_t x) { return x * x; }
MPROC_REGISTER_TASK(SquareOf);

// Ends the worker that runs it, as a crash would.
int64_t Crash(int64_t code) { mproc::Exit(static_cast<int>(code)); }
MPROC_REGISTER_TASK(Crash);

absl::StatusOr<int64_t> SumOfSquares(mproc::Pool& pool) {
  std::vector<int64_t> inputs(kItems);
  std::iota(inputs.begin(), inputs.end(), 0);
  absl::StatusOr<std::vector<int64_t>> squares = pool.Map(&SquareOf, inputs);
  if (!squares.ok()) return squares.status();
  return std::accumulate(squares->begin(), squares->end(), int64_t{0});
}

absl::Status Run(const mproc::Context& ctx) {
  absl::StatusOr<mproc::Pool> pool =
      mproc::Pool::Create(ctx, {.processes = kWorkers});
  if (!pool.ok()) return pool.status();
  absl::StatusOr<int64_t> sum = SumOfSquares(*pool);
  if (!sum.ok()) return sum.status();
  mproc::PrintLine(absl::StrFormat("Pool of %d workers, squares of 0..%d",
                                   kWorkers, kItems - 1));
  mproc::PrintLine(absl::StrFormat("Sum of squares: %d", *sum));

  std::vector<mproc::ProcessInfo> before = pool->Workers();
  absl::StatusOr<int64_t> crashed = pool->ApplyAsync(&Crash, 3).Get();
  if (crashed.ok()) return absl::InternalError("the crashing task returned");
  mproc::PrintLine(
      absl::StrFormat("Crashed task: %s", crashed.status().ToString()));
  sum = SumOfSquares(*pool);
  if (!sum.ok()) return sum.status();
  mproc::PrintLine(absl::StrFormat("Sum of squares after the crash: %d", *sum));
  for (const mproc::ProcessInfo& worker : pool->Workers()) {
    if (std::none_of(before.begin(), before.end(),
                     [&](const mproc::ProcessInfo& old) {
                       return old.pid == worker.pid;
                     })) {
      mproc::PrintLine(absl::StrFormat("Replacement worker: %s", worker.name));
    }
  }
  mproc::PrintLine(
      absl::StrFormat("Workers running: %d", pool->Workers().size()));
  if (absl::Status s = pool->Close(); !s.ok()) return s;
  return pool->Join();
}

}  // namespace

int main(int argc, char** argv) {
  const mproc::Context ctx = mproc::examples::InitExample(argc, argv);
  if (absl::Status s = Run(ctx); !s.ok()) {
    std::fprintf(stderr, "pool_map: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
