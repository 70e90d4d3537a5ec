// The OS objects behind a shared-state primitive (shared_parts.h).
#include "api/internal/shared_parts.h"

#include <atomic>
#include <utility>

#include "api/cancellation.h"
#include "api/fork_safety.h"
#include "api/internal/handover.h"
#include "api/internal/process_state.h"

namespace mproc::internal {
namespace {

std::atomic<uint32_t> next_thread_number{1};
thread_local uint32_t thread_number = 0;

template <typename T>
absl::StatusOr<std::shared_ptr<T>> DecodeObject(ByteReader& in) {
  absl::StatusOr<uint64_t> index = in.GetVarint();
  if (!index.ok()) return index.status();
  absl::StatusOr<std::shared_ptr<SharedObject>> object = HandedOver(*index);
  if (!object.ok()) return object.status();
  std::shared_ptr<T> typed = std::dynamic_pointer_cast<T>(*std::move(object));
  if (typed == nullptr) {
    return absl::InvalidArgumentError(
        "malformed launch request: a handed-over object has the wrong kind");
  }
  return typed;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const SharedParts>> CreateSharedParts(
    Backend& backend, size_t bytes, size_t semaphores) {
  auto parts = std::make_shared<SharedParts>();
  parts->backend = &backend;
  absl::StatusOr<std::shared_ptr<SharedMemory>> memory =
      backend.CreateSharedMemory(bytes);
  if (!memory.ok()) return memory.status();
  parts->memory = *std::move(memory);
  for (size_t i = 0; i < semaphores; ++i) {
    absl::StatusOr<std::shared_ptr<OsSemaphore>> semaphore =
        backend.CreateOsSemaphore(0);
    if (!semaphore.ok()) return semaphore.status();
    parts->semaphores.push_back(*std::move(semaphore));
  }
  return parts;
}

void EncodeSharedParts(const SharedParts& parts, ByteWriter& out) {
  out.PutVarint(RecordHandover(parts.memory));
  out.PutVarint(parts.semaphores.size());
  for (const std::shared_ptr<OsSemaphore>& semaphore : parts.semaphores) {
    out.PutVarint(RecordHandover(semaphore));
  }
}

absl::StatusOr<std::shared_ptr<const SharedParts>> DecodeSharedParts(
    ByteReader& in) {
  auto parts = std::make_shared<SharedParts>();
  absl::StatusOr<std::shared_ptr<SharedMemory>> memory =
      DecodeObject<SharedMemory>(in);
  if (!memory.ok()) return memory.status();
  // A handover table exists only in a child, which knows its launcher.
  parts->backend = CurrentState().launcher();
  if (parts->backend == nullptr) {
    return absl::InvalidArgumentError(
        "shared-state objects are decoded only in a child mproc started");
  }
  parts->memory = *std::move(memory);
  absl::StatusOr<uint64_t> count = in.GetCount(1);
  if (!count.ok()) return count.status();
  for (uint64_t i = 0; i < *count; ++i) {
    absl::StatusOr<std::shared_ptr<OsSemaphore>> semaphore =
        DecodeObject<OsSemaphore>(in);
    if (!semaphore.ok()) return semaphore.status();
    parts->semaphores.push_back(*std::move(semaphore));
  }
  return parts;
}

int64_t CallerPid() { return CurrentState().pid(); }

uint64_t CallerToken() {
  if (thread_number == 0) thread_number = next_thread_number.fetch_add(1);
  return (static_cast<uint64_t>(CallerPid()) << 32) | thread_number;
}

absl::StatusOr<bool> SleepOn(OsSemaphore& semaphore, absl::Time deadline) {
  absl::StatusOr<bool> woke = semaphore.Acquire(deadline);
  if (!woke.ok() && absl::IsCancelled(woke.status())) CancellationPoint();
  return woke;
}

absl::Time DeadlineOf(absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return absl::InfiniteFuture();
  if (timeout <= absl::ZeroDuration()) return absl::InfinitePast();
  return ForkSafeNow() + timeout;
}

}  // namespace mproc::internal
