// The shared-memory ring behind Queue<T> (queue_core.h).
#include "api/internal/queue_core.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/fork_safety.h"

namespace mproc::internal {
namespace {

// The semaphores of a queue's SharedParts.
constexpr size_t kLockSemaphore = 0;
constexpr size_t kNotEmpty = 1;
constexpr size_t kNotFull = 2;
constexpr size_t kAllDone = 3;
constexpr size_t kSemaphores = 4;

// Sleepers re-check at least this often (a post meant for a sleeper that
// timed out may wake another one late, never not at all, but be safe).
constexpr absl::Duration kSlice = absl::Milliseconds(100);
// How long a caller that must wait first watches the queue without sleeping.
constexpr absl::Duration kSpin = absl::Microseconds(20);
// Attempts at the lock before LockCore's sleeping Acquire.
constexpr int kLockSpins = 64;
// A caller waits at least this long for the lock, even with a zero timeout:
// the lock is held only for a copy, or by a process that died (taken over
// after LockCore's first 10 ms slice).
constexpr absl::Duration kLockGrace = absl::Milliseconds(50);

[[nodiscard]] absl::Status ClosedQueueError() {
  return absl::FailedPreconditionError(
      "Queue is closed; this process closed it (Close), so it can neither put "
      "nor get");
}

[[nodiscard]] absl::Status EmptyError() {
  return absl::DeadlineExceededError(
      "queue is empty: no item arrived before the deadline (CPython's Empty)");
}

// Takes one from `count` when it is positive: true when taken.
bool TakeOne(std::atomic<uint32_t>& count) {
  uint32_t n = count.load(std::memory_order_relaxed);
  while (n > 0) {
    if (count.compare_exchange_weak(n, n - 1)) return true;
  }
  return false;
}

}  // namespace

QueueCore::QueueCore(std::shared_ptr<const SharedParts> parts)
    : parts_(std::move(parts)),
      lock_(LockCore::Embedded(parts_, /*offset=*/0,  // QueueState::lock
                               kLockSemaphore)) {}

absl::StatusOr<std::shared_ptr<QueueCore>> QueueCore::Create(
    const Context& ctx, int64_t maxsize, int64_t capacity_bytes) {
  if (capacity_bytes < 64 ||
      static_cast<uint64_t>(capacity_bytes) > kMaxRingBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a queue's capacity_bytes must be between 64 and ",
                     kMaxRingBytes, "; got ", capacity_bytes));
  }
  const uint64_t capacity =
      (static_cast<uint64_t>(capacity_bytes) + kRingAlign - 1) / kRingAlign *
      kRingAlign;
  absl::StatusOr<std::shared_ptr<const SharedParts>> parts =
      CreateSharedParts(ctx.backend(), kRingOffset + capacity, kSemaphores);
  if (!parts.ok()) return parts.status();
  QueueState& state = ConstructState<QueueState>(**parts);
  state.capacity = capacity;
  state.maxsize = std::max<int64_t>(maxsize, 0);
  return std::make_shared<QueueCore>(*std::move(parts));
}

RingView QueueCore::ring() const {
  return RingView(
      parts_->memory->bytes().subspan(kRingOffset, state().capacity));
}

absl::StatusOr<bool> QueueCore::TakeLock(absl::Time deadline) const {
  for (int i = 0; i < kLockSpins; ++i) {
    if (lock_.TryAcquire()) return true;
  }
  absl::StatusOr<bool> taken =
      lock_.Acquire(std::max(deadline, ForkSafeNow() + kLockGrace));
  // The holder died; what it guarded is whole (marks move in one store).
  if (absl::IsAborted(taken.status())) return true;
  return taken;
}

void QueueCore::ReleaseLock() const { (void)lock_.Release(); }

void QueueCore::Post(size_t semaphore, uint32_t count) const {
  for (uint32_t i = 0; i < count; ++i) {
    // An overflowing count means plenty of wake-ups are pending already.
    (void)parts_->semaphore(semaphore).Release();
  }
}

absl::Status QueueCore::ReleaseAndSleep(size_t semaphore,
                                        std::atomic<uint32_t>& sleepers,
                                        absl::Time deadline) const {
  sleepers.fetch_add(1);
  ReleaseLock();
  absl::StatusOr<bool> woke = SleepOn(
      parts_->semaphore(semaphore), std::min(deadline, ForkSafeNow() + kSlice));
  // Woken: the poster took this sleeper out of the count. Not woken: take
  // one out (this one, or one whose post is pending in the semaphore).
  if (!woke.ok() || !*woke) TakeOne(sleepers);
  return woke.status();
}

void QueueCore::SpinWhile(const std::atomic<uint64_t>& word,
                          uint64_t seen) const {
  const absl::Time until = ForkSafeNow() + kSpin;
  for (int i = 1;; ++i) {
    if (word.load(std::memory_order_relaxed) != seen) return;
    if (i % 64 == 0 && ForkSafeNow() >= until) return;
  }
}

absl::Status QueueCore::Put(absl::string_view item, absl::Time deadline) {
  return PutImpl(item, deadline, nullptr);
}

absl::StatusOr<std::string> QueueCore::Get(absl::Time deadline) {
  return GetImpl(deadline, nullptr);
}

absl::Status QueueCore::PutForTest(absl::string_view item,
                                   const std::function<void()>& inside) {
  return PutImpl(item, absl::InfiniteFuture(), &inside);
}

absl::StatusOr<std::string> QueueCore::GetForTest(
    const std::function<void()>& inside) {
  return GetImpl(absl::InfiniteFuture(), &inside);
}

absl::Status QueueCore::PutImpl(absl::string_view item, absl::Time deadline,
                                const std::function<void()>* inside) {
  if (closed()) return ClosedQueueError();
  QueueState& s = state();
  const RingView ring = this->ring();
  const uint64_t record = RecordBytes(item.size());
  if (record > ring.capacity()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "an item of ", item.size(), " bytes (", record,
        " bytes in the ring) is larger than this queue's whole ring of ",
        ring.capacity(),
        " bytes; nothing was put. Create the queue with "
        "QueueOptions::capacity_bytes of at least ",
        record, ", or put smaller items"));
  }
  bool spun = false;
  for (;;) {
    absl::StatusOr<bool> locked = TakeLock(deadline);
    if (!locked.ok()) return locked.status();
    const RingMark head = RingMark::Unpack(s.head.load());
    const RingMark tail = RingMark::Unpack(s.tail.load());
    const bool below_maxsize =
        s.maxsize == 0 || RecordCount(head, tail) < s.maxsize;
    if (*locked && below_maxsize && ring.Free(head, tail) >= record) {
      const RingMark next = ring.Write(tail, item);
      if (inside != nullptr) (*inside)();
      s.tail.store(next.Pack());  // published
      const bool wake = TakeOne(s.get_sleepers);
      ReleaseLock();
      Post(kNotEmpty, wake ? 1 : 0);
      return absl::OkStatus();
    }
    if (*locked && !spun && deadline != absl::InfinitePast()) {
      ReleaseLock();
      SpinWhile(s.head, head.Pack());
      spun = true;
      continue;
    }
    if (!*locked || ForkSafeNow() >= deadline) {
      if (*locked) ReleaseLock();
      if (!below_maxsize) {
        return absl::DeadlineExceededError(absl::StrCat(
            "queue is full: its maxsize of ", s.maxsize,
            " items were not taken before the deadline (CPython's Full)"));
      }
      return absl::DeadlineExceededError(absl::StrCat(
          "queue is full: its ring of ", ring.capacity(),
          " bytes had no room for ", record,
          " more bytes before the deadline (CPython's Full); a larger "
          "QueueOptions::capacity_bytes holds more items"));
    }
    if (absl::Status slept =
            ReleaseAndSleep(kNotFull, s.put_sleepers, deadline);
        !slept.ok()) {
      return slept;
    }
    spun = false;
  }
}

absl::StatusOr<std::string> QueueCore::GetImpl(
    absl::Time deadline, const std::function<void()>* inside) {
  if (closed()) return ClosedQueueError();
  QueueState& s = state();
  const RingView ring = this->ring();
  bool spun = false;
  for (;;) {
    absl::StatusOr<bool> locked = TakeLock(deadline);
    if (!locked.ok()) return locked.status();
    if (!*locked) return EmptyError();
    const RingMark head = RingMark::Unpack(s.head.load());
    const RingMark tail = RingMark::Unpack(s.tail.load());
    if (RecordCount(head, tail) > 0) {
      std::string item;
      absl::StatusOr<RingMark> next = ring.Read(head, tail, item);
      if (!next.ok()) {
        ReleaseLock();
        return next.status();
      }
      if (inside != nullptr) (*inside)();
      s.head.store(next->Pack());  // removed
      const bool wake = TakeOne(s.put_sleepers);
      ReleaseLock();
      Post(kNotFull, wake ? 1 : 0);
      return item;
    }
    if (!spun && deadline != absl::InfinitePast()) {
      ReleaseLock();
      SpinWhile(s.tail, tail.Pack());
      spun = true;
      continue;
    }
    if (ForkSafeNow() >= deadline) {
      ReleaseLock();
      return EmptyError();
    }
    if (absl::Status slept =
            ReleaseAndSleep(kNotEmpty, s.get_sleepers, deadline);
        !slept.ok()) {
      return slept;
    }
    spun = false;
  }
}

absl::Status QueueCore::TaskDone() {
  if (closed()) return ClosedQueueError();
  QueueState& s = state();
  absl::StatusOr<bool> locked = TakeLock(absl::InfiniteFuture());
  if (!locked.ok()) return locked.status();
  const uint32_t put = RingMark::Unpack(s.tail.load()).seq;
  const uint32_t done = s.done.load();
  if (done == put) {
    ReleaseLock();
    return absl::FailedPreconditionError(
        "task_done() called too many times: every item put on this "
        "JoinableQueue is marked done already (CPython's ValueError); call "
        "TaskDone once for each item taken");
  }
  s.done.store(done + 1);
  const uint32_t wake = done + 1 == put ? s.join_sleepers.exchange(0) : 0;
  ReleaseLock();
  Post(kAllDone, wake);
  return absl::OkStatus();
}

absl::Status QueueCore::Join(absl::Time deadline) {
  if (closed()) return ClosedQueueError();
  QueueState& s = state();
  for (;;) {
    absl::StatusOr<bool> locked = TakeLock(deadline);
    if (!locked.ok()) return locked.status();
    const uint32_t unfinished =
        *locked ? RingMark::Unpack(s.tail.load()).seq - s.done.load() : 1;
    if (*locked && unfinished == 0) {
      ReleaseLock();
      return absl::OkStatus();
    }
    if (!*locked || ForkSafeNow() >= deadline) {
      if (*locked) ReleaseLock();
      return absl::DeadlineExceededError(absl::StrCat(
          "Join timed out: ", unfinished,
          " items put on this JoinableQueue are not marked done (TaskDone) "
          "yet"));
    }
    if (absl::Status slept =
            ReleaseAndSleep(kAllDone, s.join_sleepers, deadline);
        !slept.ok()) {
      return slept;
    }
  }
}

int64_t QueueCore::QSize() const {
  const QueueState& s = state();
  const RingMark head = RingMark::Unpack(s.head.load());
  const RingMark tail = RingMark::Unpack(s.tail.load());
  // Read without the lock: a Get between the two loads can make tail.seq
  // lag behind head.seq (a "negative" count).
  const int32_t count = static_cast<int32_t>(RecordCount(head, tail));
  return std::max<int64_t>(count, 0);
}

void QueueCore::Encode(ByteWriter& out) const {
  EncodeSharedParts(*parts_, out);
}

absl::StatusOr<std::shared_ptr<QueueCore>> QueueCore::Decode(ByteReader& in) {
  absl::StatusOr<std::shared_ptr<const SharedParts>> parts =
      DecodeSharedParts(in);
  if (!parts.ok()) return parts.status();
  const size_t size = (*parts)->memory->bytes().size();
  if (size < kRingOffset || (*parts)->semaphores.size() != kSemaphores) {
    return absl::InvalidArgumentError(
        "malformed launch request: not a Queue's shared state");
  }
  const QueueState& state = StateOf<QueueState>(**parts);
  if (state.capacity == 0 || state.capacity % kRingAlign != 0 ||
      state.capacity > kMaxRingBytes || size - kRingOffset < state.capacity ||
      state.maxsize < 0) {
    return absl::InvalidArgumentError(
        "malformed launch request: not a Queue's shared state");
  }
  return std::make_shared<QueueCore>(*std::move(parts));
}

}  // namespace mproc::internal
