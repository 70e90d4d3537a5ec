// -----------------------------------------------------------------------------
// File: api/internal/queue_core.h
// -----------------------------------------------------------------------------
//
// Internal: the type-free core of Queue<T>, SimpleQueue<T> and
// JoinableQueue<T> (api/queue.h): a ring of bytes in shared memory
// (api/internal/queue_ring.h), built only from SharedParts, so it is the
// same on every backend.
//
// One SharedParts holds everything. Its memory starts with a QueueState:
//
//   - `lock`, a LockCore (dead-holder takeover, semaphore 0) under which
//     every mark and counter below changes and the ring's bytes are written
//     and read;
//   - `head` and `tail`, the ring's marks (RingMark words): Put writes an
//     item's record past `tail` and only then stores the new `tail` (one
//     store publishes it); Get copies the record at `head` out and only then
//     stores the new `head` (one store removes it). A process that dies
//     while it holds the lock leaves the marks as they were before its
//     store, or after it: never between. The next caller takes the lock
//     over (kAborted from LockCore, "taken over") and finds the queue whole:
//     a dying producer loses only the item it had not published, a dying
//     consumer either took its item or left it in the queue;
//   - `done`, JoinableQueue's TaskDone count (mod 2^32): the unfinished
//     tasks are tail.seq - done, so that a Put counts its task in the same
//     store that publishes its item;
//   - sleeper counts for semaphore 1 ("not empty", Get), 2 ("not full",
//     Put) and 3 ("all done", Join). A caller that must wait counts itself
//     under the lock and sleeps; a caller that changes what it waits for
//     takes one sleeper out of the count under the lock and posts once
//     after it releases the lock (Join's sleepers all at once). So a busy
//     producer and consumer make no system call per item: a post only when
//     someone sleeps, one per sleeper. A sleeper that times out takes itself
//     out of the count if it is still in it (when a post was meant for it
//     already, that post wakes another sleeper, or a later one spuriously:
//     sleepers re-check, and wake at least every 100 ms anyway). A sleeper
//     that dies stays counted until one post uses it up. A sleeper woken by
//     such a stale post stays counted in turn: one extra post and one
//     spurious wake-up per sleep after that, never a lost wake-up.
//
// Before it sleeps, a caller spins for a few microseconds watching the mark
// it waits on (a consumer that has drained the ring usually finds the next
// item without sleeping), and the lock is tried a few times before
// LockCore's sleeping Acquire. The ring follows the state at offset
// kRingOffset.

#ifndef MPROC_API_INTERNAL_QUEUE_CORE_H_
#define MPROC_API_INTERNAL_QUEUE_CORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/context.h"
#include "api/internal/lock_core.h"
#include "api/internal/queue_ring.h"
#include "api/internal/shared_parts.h"
#include "api/wire.h"

namespace mproc::internal {

struct alignas(64) QueueState {
  LockState lock;
  alignas(64) std::atomic<uint64_t> head{0};  // RingMark::Pack
  std::atomic<uint64_t> tail{0};              // RingMark::Pack
  std::atomic<uint32_t> done{0};
  std::atomic<uint32_t> get_sleepers{0};
  std::atomic<uint32_t> put_sleepers{0};
  std::atomic<uint32_t> join_sleepers{0};
  // Set at creation, read-only after.
  uint64_t capacity = 0;
  int64_t maxsize = 0;
};

class QueueCore {
 public:
  // Where the ring starts in the shared memory.
  static constexpr size_t kRingOffset = (sizeof(QueueState) + 63) / 64 * 64;

  // A new, empty queue of at most `maxsize` items (0 or less: unbounded)
  // on a ring of `capacity_bytes` (rounded up to kRingAlign).
  // kInvalidArgument: a capacity below 64 bytes or above kMaxRingBytes.
  // Otherwise the backend's errors (shared memory, semaphores).
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<QueueCore>> Create(
      const Context& ctx, int64_t maxsize, int64_t capacity_bytes);

  // Appends `item`, waiting until `deadline` while the queue is full (its
  // maxsize reached, or too few bytes free in the ring). kDeadlineExceeded:
  // "queue is full"; kFailedPrecondition: closed in this process;
  // kResourceExhausted: the item's record is larger than the whole ring.
  [[nodiscard]] absl::Status Put(absl::string_view item, absl::Time deadline);
  // Takes the oldest item, waiting until `deadline`. kDeadlineExceeded:
  // "queue is empty"; kFailedPrecondition: closed in this process.
  [[nodiscard]] absl::StatusOr<std::string> Get(absl::Time deadline);

  // JoinableQueue: one task done; kFailedPrecondition when no task is
  // unfinished ("task_done() called too many times").
  [[nodiscard]] absl::Status TaskDone();
  // JoinableQueue: waits until every item put was marked done.
  // kDeadlineExceeded at `deadline`.
  [[nodiscard]] absl::Status Join(absl::Time deadline);

  // Items put and not yet taken (approximate while others put and take).
  int64_t QSize() const;
  int64_t maxsize() const { return state().maxsize; }
  int64_t capacity_bytes() const {
    return static_cast<int64_t>(state().capacity);
  }

  // This process will neither put nor take any more. Idempotent.
  void Close() { closed_.store(true, std::memory_order_release); }
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // As a target argument (the SharedParts through the handover table), and
  // back in the child.
  void Encode(ByteWriter& out) const;
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<QueueCore>> Decode(
      ByteReader& in);

  explicit QueueCore(std::shared_ptr<const SharedParts> parts);

  // For tests: Put and Get that call `inside` while they hold the lock, once
  // the item's bytes are written (Put) or copied out (Get) and before the
  // mark that publishes or removes it moves. A process killed in `inside`
  // shows what a death at the worst moment does.
  [[nodiscard]] absl::Status PutForTest(absl::string_view item,
                                        const std::function<void()>& inside);
  [[nodiscard]] absl::StatusOr<std::string> GetForTest(
      const std::function<void()>& inside);

 private:
  QueueState& state() const { return StateOf<QueueState>(*parts_); }
  RingView ring() const;
  // Takes the lock by `deadline` (at least a short while, even for a zero
  // timeout: the lock is held only for a copy). A dead holder's lock is
  // taken over. false: not taken by then.
  [[nodiscard]] absl::StatusOr<bool> TakeLock(absl::Time deadline) const;
  void ReleaseLock() const;
  // Posts semaphore `semaphore` `count` times.
  void Post(size_t semaphore, uint32_t count) const;
  // Counts this thread in `sleepers`, releases the lock the caller holds,
  // and sleeps on semaphore `semaphore` until `deadline` (at most one slice).
  [[nodiscard]] absl::Status ReleaseAndSleep(size_t semaphore,
                                             std::atomic<uint32_t>& sleepers,
                                             absl::Time deadline) const;
  // Spins a few microseconds while `word` holds `seen` (and the deadline is
  // not past).
  void SpinWhile(const std::atomic<uint64_t>& word, uint64_t seen) const;

  [[nodiscard]] absl::Status PutImpl(absl::string_view item,
                                     absl::Time deadline,
                                     const std::function<void()>* inside);
  [[nodiscard]] absl::StatusOr<std::string> GetImpl(
      absl::Time deadline, const std::function<void()>* inside);

  const std::shared_ptr<const SharedParts> parts_;
  const LockCore lock_;
  std::atomic<bool> closed_{false};
};

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_QUEUE_CORE_H_
