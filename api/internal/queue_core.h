// -----------------------------------------------------------------------------
// File: api/internal/queue_core.h
// -----------------------------------------------------------------------------
//
// Internal: the type-free core of Queue<T> (api/queue.h), built on one
// channel pair (api/backend.h ChannelPair) and shared-state primitives:
//
//   - every item is one message (a Connection frame) on the pair's stream:
//     producers write to one end under `write_lock`, so frames never
//     interleave; consumers read from the other end under `read_lock`, one
//     whole frame at a time and never ahead (RecvWhole), so an item is taken
//     by exactly one consumer and none waits in a process that did not take
//     it;
//   - a bounded queue holds a Semaphore of free `slots` (Put takes one, Get
//     gives one back), as CPython's;
//   - `size` counts items put and not yet taken (QSize, approximate).
//
// Put writes the item into the OS's buffer before it returns: no feeder
// thread, so an item whose Put returned is never lost when its producer
// exits at once (CPython's Queue can lose it). The cost: an unbounded
// queue's Put waits while that buffer is full until
// a consumer takes items (a Linux socket holds about 270 small items: every
// write is one socket buffer of its own).
//
// Every process (and thread-backend child) that holds the queue holds both
// ends, so a reader never meets end-of-stream while it holds the queue.

#ifndef MPROC_API_INTERNAL_QUEUE_CORE_H_
#define MPROC_API_INTERNAL_QUEUE_CORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/context.h"
#include "api/internal/connection_core.h"
#include "api/lock.h"
#include "api/semaphore.h"
#include "api/shared_value.h"
#include "api/wire.h"

namespace mproc::internal {

class QueueCore {
 public:
  // A new, empty queue of at most `maxsize` items (0 or less: unbounded).
  // Errors: the backend's (ChannelPair, shared memory, semaphores).
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<QueueCore>> Create(
      const Context& ctx, int64_t maxsize);

  // Appends `item`, waiting until `deadline` for a free slot (bounded) and
  // for the other producers. kDeadlineExceeded: the queue stayed full
  // (CPython's Full); kFailedPrecondition: closed in this process;
  // kResourceExhausted: over kMaxMessageBytes.
  [[nodiscard]] absl::Status Put(absl::string_view item, absl::Time deadline);
  // Takes the oldest item, waiting until `deadline`. kDeadlineExceeded: the
  // queue stayed empty (CPython's Empty); kFailedPrecondition: closed here.
  [[nodiscard]] absl::StatusOr<std::string> Get(absl::Time deadline);

  // Items put and not yet taken (approximate while others put and take).
  int64_t QSize() const;
  int64_t maxsize() const { return maxsize_; }

  // This process will neither put nor take any more: releases its holds on
  // the channel ends. Idempotent.
  void Close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // As a target argument (the ends and primitives through the handover
  // table), and back in the child.
  void Encode(ByteWriter& out) const;
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<QueueCore>> Decode(
      ByteReader& in);

  QueueCore(std::shared_ptr<ConnectionCore> reader,
            std::shared_ptr<ConnectionCore> writer, Lock read_lock,
            Lock write_lock, std::optional<Semaphore> slots,
            RawValue<int64_t> size, int64_t maxsize);

 private:
  const std::shared_ptr<ConnectionCore> reader_;
  const std::shared_ptr<ConnectionCore> writer_;
  const Lock read_lock_;
  const Lock write_lock_;
  const std::optional<Semaphore> slots_;  // bounded queues only
  const RawValue<int64_t> size_;
  const int64_t maxsize_;
  std::atomic<bool> closed_{false};
};

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_QUEUE_CORE_H_
