#include "api/pool.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/internal/lifecycle.h"
#include "api/internal/pool_core.h"
#include "api/internal/pool_protocol.h"

namespace mproc {

absl::StatusOr<Pool> Pool::Create(const Context& ctx, PoolOptions options) {
  const int64_t processes = options.processes.value_or(
      std::max<int64_t>(1, std::thread::hardware_concurrency()));
  if (processes < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("processes must be at least 1 (got ", processes,
                     "); leave it unset for the CPU count"));
  }
  if (options.max_tasks_per_child < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_tasks_per_child must be 0 (no limit) or positive (got ",
        options.max_tasks_per_child, ")"));
  }
  if (!options.initializer.empty() && !options.initializer.registered() &&
      !ctx.start_method().runs_closures) {
    return internal::ClosureNotAllowedError(ctx.name());
  }
  absl::StatusOr<std::unique_ptr<internal::PoolCore>> core =
      internal::PoolCore::Start(ctx, processes, options.max_tasks_per_child,
                                std::move(options.initializer));
  if (!core.ok()) return core.status();
  return Pool(*std::move(core));
}

Pool::Pool(std::unique_ptr<internal::PoolCore> core) : core_(std::move(core)) {}
Pool::Pool(Pool&& other) noexcept = default;
Pool& Pool::operator=(Pool&& other) noexcept = default;
Pool::~Pool() = default;  // ~PoolCore terminates

const Context& Pool::context() const { return core_->context(); }

absl::Status Pool::MovedFrom() {
  return absl::FailedPreconditionError(
      "this Pool was moved from; use the Pool it was moved to");
}

std::shared_ptr<internal::ResultSink> Pool::Failed(const absl::Status& error) {
  auto sink = std::make_shared<internal::ResultSink>(1);
  sink->Fail(0, 1, error);
  return sink;
}

absl::StatusOr<std::shared_ptr<internal::ResultSink>> Pool::Submit(
    const absl::StatusOr<internal::TaskReference>& function, size_t count,
    size_t chunksize, absl::FunctionRef<void(size_t, ByteWriter&)> encode_item,
    bool completion_order) {
  if (core_ == nullptr) return MovedFrom();
  if (!function.ok()) return function.status();
  if (chunksize == 0) {
    const size_t per = static_cast<size_t>(4 * core_->processes());
    chunksize = std::max<size_t>(1, (count + per - 1) / per);
  }
  auto sink = std::make_shared<internal::ResultSink>(count, completion_order);
  ByteWriter item;
  for (size_t first = 0; first < count; first += chunksize) {
    const size_t size = std::min(chunksize, count - first);
    const uint64_t id = core_->NextBatchId();
    internal::TaskFrameWriter frame(id, *function, size);
    for (size_t i = first; i < first + size; ++i) {
      item.Clear();
      encode_item(i, item);
      frame.AddItem(item.data());
    }
    // Each chunk is queued as soon as it is encoded: the workers start on
    // it while the next ones are encoded.
    std::vector<internal::PoolBatch> batch;
    batch.push_back({.id = id,
                     .frame = frame.Release(),
                     .sink = sink,
                     .first = first,
                     .count = size});
    if (absl::Status s = core_->Submit(std::move(batch)); !s.ok()) return s;
  }
  return sink;
}

absl::Status Pool::Close() {
  if (core_ == nullptr) return MovedFrom();
  return core_->Close();
}

absl::Status Pool::Join(absl::Duration timeout) {
  if (core_ == nullptr) return MovedFrom();
  return core_->Join(timeout);
}

absl::Status Pool::Terminate() {
  if (core_ == nullptr) return MovedFrom();
  return core_->Terminate();
}

std::vector<ProcessInfo> Pool::Workers() const {
  if (core_ == nullptr) return {};
  return core_->Workers();
}

absl::Status Pool::KillWorkerForTest(int64_t pid) {
  if (core_ == nullptr) return MovedFrom();
  return core_->KillWorker(pid);
}

}  // namespace mproc
