// Thread backend only: in-memory channel pairs and WaitReady
// (thread_channel.h).
#include "backends/thread/thread_channel.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "api/cancellation.h"
#include "backends/thread/byte_queue.h"
#include "backends/thread/cancellable_wait.h"
#include "backends/thread/thread_child.h"
#include "backends/thread/thread_shared.h"

namespace mproc::thread {
namespace {

std::atomic<int64_t> open_channel_ends{0};

// "Something a WaitReady may be waiting for changed": a counter that moves
// on every write, close and child end while anyone waits.
struct Readiness {
  absl::Mutex mu;
  uint64_t epoch ABSL_GUARDED_BY(mu) = 0;
  std::atomic<int> waiters{0};
};

Readiness& GetReadiness() {
  static Readiness* const readiness = new Readiness;  // never destroyed
  return *readiness;
}

// The bytes going one way, and how many holds each side has open.
struct Direction {
  absl::Mutex mu;
  ByteQueue bytes ABSL_GUARDED_BY(mu);
  int writers ABSL_GUARDED_BY(mu) = 0;
  int readers ABSL_GUARDED_BY(mu) = 0;

  bool Readable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return !bytes.empty() || writers == 0;
  }
};

[[nodiscard]] absl::Status NotHeld() {
  return absl::FailedPreconditionError(
      "this child does not hold the channel end: it was closed here");
}

// ThreadChannelEnd
//
// One hold on one end: reads `in`, writes `out`.
class ThreadChannelEnd final : public ChannelEnd {
 public:
  ThreadChannelEnd(std::shared_ptr<Direction> in,
                   std::shared_ptr<Direction> out)
      : in_(std::move(in)), out_(std::move(out)) {
    {
      absl::MutexLock lock(&in_->mu);
      ++in_->readers;
    }
    absl::MutexLock lock(&out_->mu);
    ++out_->writers;
    open_channel_ends.fetch_add(1);
  }
  ~ThreadChannelEnd() override { Close(); }

  // Another hold on the same end.
  [[nodiscard]] absl::StatusOr<std::shared_ptr<ThreadChannelEnd>> Duplicate()
      const {
    if (closed_.load(std::memory_order_acquire)) {
      return absl::FailedPreconditionError(
          "handle is closed; a Connection passed to this child was closed "
          "in this process: start the child before closing this process's "
          "copy");
    }
    return std::make_shared<ThreadChannelEnd>(in_, out_);
  }

  absl::Status WriteAll(absl::string_view bytes) override {
    if (closed_.load(std::memory_order_acquire)) return NotHeld();
    {
      absl::MutexLock lock(&out_->mu);
      if (out_->readers == 0) {
        return absl::UnavailableError("the peer closed its end");
      }
      out_->bytes.Append(bytes);
    }
    NotifyThreadReadiness();
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> ReadSomeUntil(gsl::span<char> buffer,
                                       absl::Time deadline) override {
    if (buffer.empty()) {
      return absl::InvalidArgumentError("ReadSome needs a non-empty buffer");
    }
    if (closed_.load(std::memory_order_acquire)) return NotHeld();
    Direction& pipe = *in_;
    const bool ready = LockWhenReadyOrStopped(
        pipe.mu,
        [&pipe]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return pipe.Readable(); },
        deadline);
    absl::StatusOr<size_t> result = size_t{0};  // end-of-stream
    if (!ready && CurrentStopToken().stop_requested()) {
      result = absl::CancelledError("the calling child was cancelled");
    } else if (!ready) {
      result = absl::DeadlineExceededError("nothing to read by the deadline");
    } else if (!pipe.bytes.empty()) {
      result = pipe.bytes.TakeInto(buffer);
    }
    pipe.mu.Unlock();
    return result;
  }

  void Close() override {
    if (closed_.exchange(true, std::memory_order_acq_rel)) return;
    {
      absl::MutexLock lock(&in_->mu);
      --in_->readers;
    }
    {
      absl::MutexLock lock(&out_->mu);
      --out_->writers;
    }
    open_channel_ends.fetch_sub(1);
    NotifyThreadReadiness();
  }

  // Held here, and a read would not wait.
  [[nodiscard]] absl::StatusOr<bool> Readable() const {
    if (closed_.load(std::memory_order_acquire)) return NotHeld();
    absl::MutexLock lock(&in_->mu);
    return in_->Readable();
  }

 private:
  const std::shared_ptr<Direction> in_;
  const std::shared_ptr<Direction> out_;
  std::atomic<bool> closed_{false};
};

// Which of `ends` and `children` are ready now.
[[nodiscard]] absl::StatusOr<Backend::Ready> LookOnce(
    gsl::span<ThreadChannelEnd* const> ends, gsl::span<Child* const> children) {
  Backend::Ready ready;
  for (size_t i = 0; i < ends.size(); ++i) {
    absl::StatusOr<bool> readable = ends[i]->Readable();
    if (!readable.ok()) return readable.status();
    if (*readable) ready.ends.push_back(i);
  }
  for (size_t j = 0; j < children.size(); ++j) {
    absl::StatusOr<bool> ended = ThreadChildEnded(*children[j]);
    if (!ended.ok()) return ended.status();
    if (*ended) ready.children.push_back(j);
  }
  return ready;
}

}  // namespace

void NotifyThreadReadiness() {
  Readiness& readiness = GetReadiness();
  if (readiness.waiters.load() == 0) return;
  absl::MutexLock lock(&readiness.mu);
  ++readiness.epoch;
}

int64_t OpenChannelEndCount() { return open_channel_ends.load(); }

absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>>
CreateThreadChannelPair() {
  auto one_way = std::make_shared<Direction>();
  auto other_way = std::make_shared<Direction>();
  return std::array<std::shared_ptr<ChannelEnd>, 2>{
      std::make_shared<ThreadChannelEnd>(other_way, one_way),
      std::make_shared<ThreadChannelEnd>(one_way, other_way)};
}

bool IsThreadChannelEnd(const SharedObject* object) {
  return dynamic_cast<const ThreadChannelEnd*>(object) != nullptr;
}

absl::StatusOr<std::vector<std::shared_ptr<SharedObject>>> ChildHandovers(
    const std::vector<std::shared_ptr<SharedObject>>& objects) {
  if (absl::Status s = CheckThreadHandovers(objects); !s.ok()) return s;
  std::vector<std::shared_ptr<SharedObject>> handed;
  handed.reserve(objects.size());
  for (const std::shared_ptr<SharedObject>& object : objects) {
    const auto* end = dynamic_cast<const ThreadChannelEnd*>(object.get());
    if (end == nullptr) {
      handed.push_back(object);
      continue;
    }
    absl::StatusOr<std::shared_ptr<ThreadChannelEnd>> hold = end->Duplicate();
    if (!hold.ok()) return hold.status();
    handed.push_back(*std::move(hold));
  }
  return handed;
}

absl::StatusOr<Backend::Ready> ThreadWaitReady(
    gsl::span<ChannelEnd* const> ends, gsl::span<Child* const> children,
    absl::Time deadline) {
  std::vector<ThreadChannelEnd*> thread_ends(ends.size());
  for (size_t i = 0; i < ends.size(); ++i) {
    thread_ends[i] = dynamic_cast<ThreadChannelEnd*>(ends[i]);
    if (thread_ends[i] == nullptr) {
      return absl::InvalidArgumentError(
          "a Connection made by another backend was passed to the thread "
          "backend's Wait; wait on objects of one context's backend");
    }
  }
  Readiness& readiness = GetReadiness();
  readiness.waiters.fetch_add(1);
  struct Leave {
    Readiness& readiness;
    ~Leave() { readiness.waiters.fetch_sub(1); }
  } leave{readiness};
  while (true) {
    uint64_t seen;
    {
      absl::MutexLock lock(&readiness.mu);
      seen = readiness.epoch;
    }
    // Looked at after reading the epoch: a change after the look moves it.
    absl::StatusOr<Backend::Ready> ready = LookOnce(thread_ends, children);
    if (!ready.ok() || !ready->ends.empty() || !ready->children.empty()) {
      return ready;
    }
    const bool moved = LockWhenReadyOrStopped(
        readiness.mu,
        [&readiness, seen]()
            ABSL_NO_THREAD_SAFETY_ANALYSIS { return readiness.epoch != seen; },
        deadline);
    readiness.mu.Unlock();
    if (moved) continue;
    if (CurrentStopToken().stop_requested()) {
      return absl::CancelledError("the calling child was cancelled");
    }
    return LookOnce(thread_ends, children);  // the deadline
  }
}

}  // namespace mproc::thread
