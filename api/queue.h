// -----------------------------------------------------------------------------
// File: api/queue.h
// -----------------------------------------------------------------------------
//
// Queue<T>, SimpleQueue<T> and JoinableQueue<T>, as CPython's
// multiprocessing.Queue, SimpleQueue and JoinableQueue: many producers and
// many consumers across processes.
//
//   absl::StatusOr<mproc::Queue<int64_t>> queue =
//       mproc::Queue<int64_t>::Create(ctx, /*maxsize=*/100);
//   ctx.NewProcess(mproc::Target(&Produce, *queue)) ... Start
//   absl::StatusOr<int64_t> item = queue->Get(absl::Seconds(1));
//
// Items live in a ring of bytes in shared memory (design doc §10): Put copies
// the encoded item into the ring before it returns (no feeder thread, no
// pipe), so an item whose Put returned is never lost, even when its producer
// exits at once, and a queue holds items while no consumer runs (up to its
// capacity). Items from one producer arrive in the order it put them; each
// item is taken by exactly one Get. A producer that dies inside Put loses
// only the item it was putting; a consumer that dies inside Get either took
// its item whole or left it in the queue: every other item stays, once, and
// the queue stays usable. A busy producer and consumer make no system call
// per item (a wake-up only when the other side sleeps).
//
// Capacity. `QueueOptions::capacity_bytes` (default 4 MiB) bounds the bytes
// of the items held: each takes its encoded size plus 4, rounded up to 4 (a
// small int64_t takes 8 bytes: the default holds about 500 000 of them).
// 4 MiB because the memory is committed only as the ring's pages are first
// touched (Linux memfd, Windows pagefile sections; the thread backend
// allocates it at once), so a large default costs little, and it lets a
// producer run far ahead of its consumers. `maxsize` (items) bounds as in
// CPython; an unbounded queue's Put waits only while the ring has too few
// bytes free. An item larger than the whole ring is refused
// (kResourceExhausted): create the queue with a larger capacity_bytes.
//
// Handles are cheap and copyable (copies are the same queue) and
// thread-safe; a queue reaches a child as a target argument (its Codec; a
// closure that captures it works on posix:fork and thread too).
//
// Errors: a timeout that passes is `kDeadlineExceeded` ("queue is full"
// where CPython raises Full, "queue is empty" where it raises Empty); a
// queue closed in this process `kFailedPrecondition`; an item larger than
// the ring `kResourceExhausted` (nothing put); an item that is not a `T`
// `kInvalidArgument` (taken all the same). A blocked Put, Get or Join is a
// cancellation point on the thread backend.

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

struct QueueOptions {
  // The default ring: 4 MiB (see the file comment).
  static constexpr int64_t kDefaultCapacityBytes = int64_t{4} << 20;

  // Bytes of the ring that holds the items: at least 64, at most 1 GiB
  // (rounded up to a multiple of 4). The largest item is capacity_bytes - 4
  // bytes, encoded.
  int64_t capacity_bytes = kDefaultCapacityBytes;
};

namespace internal {
struct QueueTestPeer;
}  // namespace internal

// Queue
//
// CPython's multiprocessing.Queue (also its Full and Empty, as
// kDeadlineExceeded).
template <HasCodec T>
class Queue {
 public:
  // A new, empty queue of at most `maxsize` items (0 or less: unbounded)
  // whose users are children of `ctx`'s backend. kInvalidArgument: a
  // capacity_bytes out of range; otherwise the backend's errors (shared
  // memory, semaphores).
  [[nodiscard]] static absl::StatusOr<Queue> Create(const Context& ctx,
                                                    int64_t maxsize = 0,
                                                    QueueOptions options = {}) {
    absl::StatusOr<std::shared_ptr<internal::QueueCore>> core =
        internal::QueueCore::Create(ctx, maxsize, options.capacity_bytes);
    if (!core.ok()) return core.status();
    return Queue(*std::move(core));
  }

  // Appends `item`, waiting up to `timeout` (or until `deadline`) while the
  // queue is full: `maxsize` items held, or too few bytes free in the ring
  // (InfiniteDuration: for ever; zero or less: not at all). Returns once the
  // item is in the queue.
  // kDeadlineExceeded "queue is full": still full at the deadline (nothing
  // put); kResourceExhausted: the encoded item does not fit in the whole
  // ring (nothing put; a larger QueueOptions::capacity_bytes);
  // kFailedPrecondition: Close was called in this process.
  [[nodiscard]] absl::Status Put(
      const T& item, absl::Duration timeout = absl::InfiniteDuration()) const {
    return core_->Put(EncodeValue(item), internal::DeadlineOf(timeout));
  }
  [[nodiscard]] absl::Status Put(const T& item, absl::Time deadline) const {
    return core_->Put(EncodeValue(item), deadline);
  }

  // Takes the oldest item, waiting up to `timeout` (or until `deadline`)
  // while the queue is empty.
  // kDeadlineExceeded "queue is empty": nothing arrived by the deadline;
  // kInvalidArgument: the item is not a `T` (it is taken all the same);
  // kFailedPrecondition: Close was called in this process.
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
  // maxsize items held (never true for an unbounded queue, even when its
  // ring is full).
  bool Full() const {
    return core_->maxsize() > 0 && QSize() >= core_->maxsize();
  }
  // 0 for an unbounded queue.
  int64_t maxsize() const { return core_->maxsize(); }
  // The ring's size (QueueOptions::capacity_bytes, rounded up).
  int64_t capacity_bytes() const { return core_->capacity_bytes(); }

  // This process will neither put nor get any more (CPython's close()): its
  // later calls (on every copy of this handle) return kFailedPrecondition.
  // Idempotent. Items in the queue stay; other processes' handles, and
  // handles decoded in children later, stay usable. The shared memory goes
  // when the last handle in the last process does.
  void Close() const { core_->Close(); }
  bool closed() const { return core_->closed(); }

 protected:
  explicit Queue(std::shared_ptr<internal::QueueCore> core)
      : core_(std::move(core)) {}
  const std::shared_ptr<internal::QueueCore>& core() const { return core_; }

 private:
  friend struct Codec<Queue>;
  friend struct internal::QueueTestPeer;
  std::shared_ptr<internal::QueueCore> core_;
};

// JoinableQueue
//
// CPython's multiprocessing.JoinableQueue: a Queue that counts unfinished
// tasks. Every Put adds one (in the same step that publishes the item, so
// a producer that dies cannot leave them disagreeing); TaskDone takes one;
// Join waits until none is left. The count lives in the queue's shared
// state: TaskDone and Join may come from any process that holds the queue.
template <HasCodec T>
class JoinableQueue : public Queue<T> {
 public:
  [[nodiscard]] static absl::StatusOr<JoinableQueue> Create(
      const Context& ctx, int64_t maxsize = 0, QueueOptions options = {}) {
    absl::StatusOr<std::shared_ptr<internal::QueueCore>> core =
        internal::QueueCore::Create(ctx, maxsize, options.capacity_bytes);
    if (!core.ok()) return core.status();
    return JoinableQueue(*std::move(core));
  }

  // One item taken earlier is finished (CPython's task_done()).
  // kFailedPrecondition "task_done() called too many times": no task is
  // unfinished (CPython's ValueError); kFailedPrecondition: closed here.
  [[nodiscard]] absl::Status TaskDone() const {
    return this->core()->TaskDone();
  }

  // Waits up to `timeout` (or until `deadline`) until every item ever put
  // has been marked done (CPython's join(), which has no timeout).
  // kDeadlineExceeded: tasks were still unfinished at the deadline;
  // kFailedPrecondition: closed here.
  [[nodiscard]] absl::Status Join(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    return this->core()->Join(internal::DeadlineOf(timeout));
  }
  [[nodiscard]] absl::Status Join(absl::Time deadline) const {
    return this->core()->Join(deadline);
  }

 private:
  friend struct Codec<JoinableQueue>;
  explicit JoinableQueue(std::shared_ptr<internal::QueueCore> core)
      : Queue<T>(std::move(core)) {}
};

// SimpleQueue
//
// CPython's multiprocessing.SimpleQueue: an unbounded queue with Put, Get,
// Empty and Close. Its Put waits only while the ring is full; its Get waits
// for an item (the optional timeouts are this library's addition, with
// Queue's errors).
template <HasCodec T>
class SimpleQueue {
 public:
  [[nodiscard]] static absl::StatusOr<SimpleQueue> Create(
      const Context& ctx, QueueOptions options = {}) {
    absl::StatusOr<std::shared_ptr<internal::QueueCore>> core =
        internal::QueueCore::Create(ctx, /*maxsize=*/0, options.capacity_bytes);
    if (!core.ok()) return core.status();
    return SimpleQueue(*std::move(core));
  }

  // As Queue<T>::Put and Get.
  [[nodiscard]] absl::Status Put(
      const T& item, absl::Duration timeout = absl::InfiniteDuration()) const {
    return core_->Put(EncodeValue(item), internal::DeadlineOf(timeout));
  }
  [[nodiscard]] absl::StatusOr<T> Get(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    absl::StatusOr<std::string> bytes =
        core_->Get(internal::DeadlineOf(timeout));
    if (!bytes.ok()) return bytes.status();
    return DecodeValue<T>(*bytes);
  }
  bool Empty() const { return core_->QSize() == 0; }
  // As Queue<T>::Close.
  void Close() const { core_->Close(); }
  bool closed() const { return core_->closed(); }

 private:
  friend struct Codec<SimpleQueue>;
  explicit SimpleQueue(std::shared_ptr<internal::QueueCore> core)
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

template <HasCodec T>
struct Codec<JoinableQueue<T>> {
  static void Encode(const JoinableQueue<T>& queue, ByteWriter& out) {
    Codec<Queue<T>>::Encode(queue, out);
  }
  [[nodiscard]] static absl::StatusOr<JoinableQueue<T>> Decode(ByteReader& in) {
    absl::StatusOr<std::shared_ptr<internal::QueueCore>> core =
        internal::QueueCore::Decode(in);
    if (!core.ok()) return core.status();
    return JoinableQueue<T>(*std::move(core));
  }
};

template <HasCodec T>
struct Codec<SimpleQueue<T>> {
  static void Encode(const SimpleQueue<T>& queue, ByteWriter& out) {
    queue.core_->Encode(out);
  }
  [[nodiscard]] static absl::StatusOr<SimpleQueue<T>> Decode(ByteReader& in) {
    absl::StatusOr<std::shared_ptr<internal::QueueCore>> core =
        internal::QueueCore::Decode(in);
    if (!core.ok()) return core.status();
    return SimpleQueue<T>(*std::move(core));
  }
};

namespace internal {

// For tests (workloads): the core of a queue, for PutForTest / GetForTest.
struct QueueTestPeer {
  template <HasCodec T>
  static QueueCore& CoreOf(const Queue<T>& queue) {
    return *queue.core_;
  }
};

}  // namespace internal
}  // namespace mproc

#endif  // MPROC_API_QUEUE_H_
