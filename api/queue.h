// -----------------------------------------------------------------------------
// File: api/queue.h
// -----------------------------------------------------------------------------
//
// Queue<T>, as CPython's multiprocessing.Queue: many producers and many
// consumers across processes.
//
//   absl::StatusOr<mproc::Queue<int64_t>> queue =
//       mproc::Queue<int64_t>::Create(ctx, /*maxsize=*/100);
//   ctx.NewProcess(mproc::Target(&Produce, *queue)) ... Start
//   absl::StatusOr<int64_t> item = queue->Get(absl::Seconds(1));
//
// Items from one producer arrive in the order it put them; each item is
// taken by exactly one Get. Put writes the item into the OS's buffer before
// it returns (no feeder thread): an item whose Put returned is never lost,
// even when its producer exits at once. A Queue reaches a child as a target
// argument (docs/design.md §10); copies are the same queue.
//
// Errors: a timeout that passes is `kDeadlineExceeded` ("queue is full" where
// CPython raises Full, "queue is empty" where it raises Empty); a Queue
// closed in this process `kFailedPrecondition`; an item over
// kMaxMessageBytes `kResourceExhausted`; an item that is not a `T`
// `kInvalidArgument` (taken all the same). A blocked Put or Get is a
// cancellation point on the thread backend.
//
// Known limits of this first version: an unbounded queue's Put waits while
// the OS's buffer is full until a consumer takes items (a Linux socket holds
// about 270 small items, or 200 KiB of large ones); a consumer killed in the
// middle of reading an item (between the item's header and its payload, or
// within an item larger than one read) leaves the stream cut, and the queue
// unusable; one system call per Put and two per Get bound its throughput
// (design doc §10).

#ifndef MPROC_API_QUEUE_H_
#define MPROC_API_QUEUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/codec.h"
#include "api/context.h"
#include "api/internal/queue_core.h"
#include "api/internal/shared_parts.h"

namespace mproc {

// Queue
//
// A cheap, copyable handle (copies are one queue). Thread-safe.
template <HasCodec T>
class Queue {
 public:
  // A new, empty queue of at most `maxsize` items (0 or less: unbounded)
  // whose users are children of `ctx`'s backend. Errors: the backend's.
  [[nodiscard]] static absl::StatusOr<Queue> Create(const Context& ctx,
                                                    int64_t maxsize = 0) {
    absl::StatusOr<std::shared_ptr<internal::QueueCore>> core =
        internal::QueueCore::Create(ctx, maxsize);
    if (!core.ok()) return core.status();
    return Queue(*std::move(core));
  }

  // Appends `item`, waiting up to `timeout` while the queue is full
  // (InfiniteDuration: for ever; zero or less: not at all).
  [[nodiscard]] absl::Status Put(
      const T& item, absl::Duration timeout = absl::InfiniteDuration()) const {
    return core_->Put(EncodeValue(item), internal::DeadlineOf(timeout));
  }
  [[nodiscard]] absl::Status Put(const T& item, absl::Time deadline) const {
    return core_->Put(EncodeValue(item), deadline);
  }

  // Takes the oldest item, waiting up to `timeout` while the queue is empty.
  [[nodiscard]] absl::StatusOr<T> Get(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    return Get(internal::DeadlineOf(timeout));
  }
  [[nodiscard]] absl::StatusOr<T> Get(absl::Time deadline) const {
    absl::StatusOr<std::string> bytes = core_->Get(deadline);
    if (!bytes.ok()) return bytes.status();
    return DecodeValue<T>(*bytes);
  }

  // Items put and not yet taken: approximate while others put and take (as
  // CPython's qsize).
  int64_t QSize() const { return core_->QSize(); }
  bool Empty() const { return QSize() == 0; }
  bool Full() const {
    return core_->maxsize() > 0 && QSize() >= core_->maxsize();
  }
  // 0 for an unbounded queue.
  int64_t maxsize() const { return core_->maxsize(); }

  // This process will neither put nor get any more (CPython's close()):
  // releases its holds on the queue's OS objects. Idempotent; later calls
  // here return kFailedPrecondition. Other processes' copies stay usable.
  void Close() const { core_->Close(); }
  bool closed() const { return core_->closed(); }

 private:
  friend struct Codec<Queue>;
  explicit Queue(std::shared_ptr<internal::QueueCore> core)
      : core_(std::move(core)) {}
  std::shared_ptr<internal::QueueCore> core_;
};

template <HasCodec T>
struct Codec<Queue<T>> {
  static void Encode(const Queue<T>& queue, ByteWriter& out) {
    queue.core_->Encode(out);
  }
  [[nodiscard]] static absl::StatusOr<Queue<T>> Decode(ByteReader& in) {
    absl::StatusOr<std::shared_ptr<internal::QueueCore>> core =
        internal::QueueCore::Decode(in);
    if (!core.ok()) return core.status();
    return Queue<T>(*std::move(core));
  }
};

}  // namespace mproc

#endif  // MPROC_API_QUEUE_H_
