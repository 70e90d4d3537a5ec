// Shared state: four children each add 10000 to one shared Value<int64_t>
// under its lock, and fill their quarter of a shared Array<double>; the
// parent prints the exact total. Runs on every context (--backend,
// --start_method).
#include <cstdio>
#include <vector>

#include "absl/strings/str_format.h"
#include "api/current_process.h"
#include "api/synchronize.h"
#include "examples/example_context.h"
#include "workloads/shared_state.h"

namespace {

constexpr int64_t kChildren = 4;
constexpr int64_t kIncrements = 10000;
constexpr int64_t kCells = 100;

absl::Status Run(const mproc::Context& ctx) {
  absl::StatusOr<mproc::Value<int64_t>> counter =
      mproc::Value<int64_t>::Create(ctx, 0);
  if (!counter.ok()) return counter.status();
  absl::StatusOr<mproc::Array<double>> cells =
      mproc::Array<double>::Create(ctx, kCells);
  if (!cells.ok()) return cells.status();

  std::vector<mproc::Process> children;
  for (int64_t i = 0; i < kChildren; ++i) {
    children.push_back(ctx.NewProcess(mproc::Target(
        &mproc::workloads::IncrementUnderLock, *counter, kIncrements)));
    children.push_back(ctx.NewProcess(
        mproc::Target(&mproc::workloads::FillArray, *cells,
                      i * kCells / kChildren, (i + 1) * kCells / kChildren)));
  }
  for (mproc::Process& child : children) {
    if (absl::Status s = child.Start(); !s.ok()) return s;
  }
  for (mproc::Process& child : children) {
    if (absl::Status s = child.Join(); !s.ok()) return s;
    if (child.exitcode() != 0) {
      return absl::InternalError(
          absl::StrFormat("%s ended with %d", child.name(), *child.exitcode()));
    }
  }

  absl::StatusOr<int64_t> total = counter->Get();
  if (!total.ok()) return total.status();
  absl::StatusOr<std::vector<double>> values = cells->Snapshot();
  if (!values.ok()) return values.status();
  double sum = 0;
  for (double v : *values) sum += v;
  mproc::PrintLine(
      absl::StrFormat("%d children x %d increments", kChildren, kIncrements));
  mproc::PrintLine(absl::StrFormat("Counter: %d", *total));
  mproc::PrintLine(absl::StrFormat("Array sum: %.1f", sum));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const mproc::Context ctx = mproc::examples::InitExample(argc, argv);
  if (absl::Status s = Run(ctx); !s.ok()) {
    std::fprintf(stderr, "shared_counter: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
