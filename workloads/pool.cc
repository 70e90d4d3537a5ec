#include "workloads/pool.h"

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/exit.h"
#include "api/pool.h"
#include "workloads/shared_state.h"

namespace mproc::workloads {

int64_t Square(int64_t x) { return x * x; }
MPROC_REGISTER_TASK(Square);

int64_t SpinWork(int64_t rounds) {
  uint64_t x = 0x9E3779B97F4A7C15u ^ static_cast<uint64_t>(rounds);
  for (int64_t i = 0; i < rounds; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return static_cast<int64_t>(x);
}
MPROC_REGISTER_TASK(SpinWork);

std::string Repeat(std::string text, int64_t times) {
  std::string out;
  for (int64_t i = 0; i < times; ++i) out += text;
  return out;
}
MPROC_REGISTER_TASK(Repeat);

absl::StatusOr<int64_t> FailOnNegative(int64_t x) {
  if (x < 0)
    return absl::InvalidArgumentError(absl::StrCat("negative input ", x));
  return x;
}
MPROC_REGISTER_TASK(FailOnNegative);

int64_t ThrowOnSeven(int64_t x) {
  if (x == 7) throw std::runtime_error("seven is unlucky");
  return x;
}
MPROC_REGISTER_TASK(ThrowOnSeven);

int64_t WorkerPid(int64_t /*x*/) { return CurrentProcess().pid; }
MPROC_REGISTER_TASK(WorkerPid);

int64_t ExitWorker(int64_t code) { Exit(static_cast<int>(code)); }
MPROC_REGISTER_TASK(ExitWorker);

absl::StatusOr<int64_t> WaitForRelease(EventProxy started, EventProxy release) {
  if (absl::Status s = started.Set(); !s.ok()) return s;
  absl::StatusOr<bool> released = release.Wait();
  if (!released.ok()) return released.status();
  return 1;
}
MPROC_REGISTER_TASK(WaitForRelease);

absl::StatusOr<int64_t> CreateNestedPool(int64_t /*x*/) {
  absl::StatusOr<Context> ctx = GetContext();
  if (!ctx.ok()) return ctx.status();
  absl::StatusOr<Pool> pool = Pool::Create(*ctx, {.processes = 1});
  if (!pool.ok()) return pool.status();
  return 1;
}
MPROC_REGISTER_TASK(CreateNestedPool);

namespace {
std::atomic<int64_t> worker_tag{0};
}  // namespace

absl::Status RememberTag(Value<int64_t> initialized, int64_t tag) {
  worker_tag.store(tag);
  return IncrementUnderLock(initialized, 1);
}
MPROC_REGISTER_TARGET(RememberTag);

int64_t WorkerTag(int64_t /*x*/) { return worker_tag.load(); }
MPROC_REGISTER_TASK(WorkerTag);

absl::Status RefuseToInitialize(std::string why) {
  return absl::UnavailableError(why);
}
MPROC_REGISTER_TARGET(RefuseToInitialize);

}  // namespace mproc::workloads
