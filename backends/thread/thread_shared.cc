// Thread backend only: shared memory and semaphores (thread_shared.h).
#include "backends/thread/thread_shared.h"

#include <atomic>
#include <cstring>
#include <limits>
#include <new>
#include <stop_token>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api/cancellation.h"
#include "backends/thread/thread_channel.h"

namespace mproc::thread {
namespace {

std::atomic<int64_t> open_shared_objects{0};

class Counted {
 protected:
  Counted() { open_shared_objects.fetch_add(1); }
  ~Counted() { open_shared_objects.fetch_sub(1); }
};

// The alignment SharedMemory promises.
constexpr std::align_val_t kAlignment{64};

class ThreadSharedMemory final : public SharedMemory, Counted {
 public:
  explicit ThreadSharedMemory(size_t size)
      : data_(static_cast<std::byte*>(::operator new(size, kAlignment))),
        size_(size) {
    std::memset(data_, 0, size_);
  }
  ~ThreadSharedMemory() override { ::operator delete(data_, kAlignment); }

  gsl::span<std::byte> bytes() const override { return {data_, size_}; }

 private:
  std::byte* const data_;
  const size_t size_;
};

class ThreadSemaphore final : public OsSemaphore, Counted {
 public:
  explicit ThreadSemaphore(uint32_t initial) : count_(initial) {}

  absl::StatusOr<bool> Acquire(absl::Time deadline) override {
    std::stop_token token = CurrentStopToken();
    // A stop request touches `mu_`, so absl::Mutex re-evaluates the
    // condition (unregistered after `lock` below has released `mu_`).
    const CancellationWake wake(&mu_);
    struct Args {
      ThreadSemaphore* self;
      std::stop_token* token;
    } args{this, &token};
    const absl::Condition ready(
        +[](Args* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return a->self->count_ > 0 || a->token->stop_requested();
        },
        &args);
    absl::MutexLock lock(&mu_);
    if (deadline == absl::InfiniteFuture()) {
      mu_.Await(ready);
    } else {
      mu_.AwaitWithDeadline(ready, deadline);
    }
    if (count_ > 0) {
      --count_;
      return true;
    }
    if (token.stop_requested()) {
      return absl::CancelledError("the calling child was cancelled");
    }
    return false;
  }

  absl::Status Release() override {
    absl::MutexLock lock(&mu_);
    if (count_ == std::numeric_limits<int64_t>::max()) {
      return absl::OutOfRangeError("the semaphore's count would overflow");
    }
    ++count_;
    return absl::OkStatus();
  }

 private:
  absl::Mutex mu_;
  int64_t count_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::shared_ptr<SharedMemory>> CreateThreadSharedMemory(
    size_t size) {
  if (size == 0) {
    return absl::InvalidArgumentError("shared memory of 0 bytes");
  }
  try {
    return std::make_shared<ThreadSharedMemory>(size);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate ", size, " bytes of shared memory"));
  }
}

absl::StatusOr<std::shared_ptr<OsSemaphore>> CreateThreadSemaphore(
    uint32_t initial) {
  return std::make_shared<ThreadSemaphore>(initial);
}

absl::Status CheckThreadHandovers(
    const std::vector<std::shared_ptr<SharedObject>>& objects) {
  for (const std::shared_ptr<SharedObject>& object : objects) {
    if (dynamic_cast<ThreadSharedMemory*>(object.get()) == nullptr &&
        dynamic_cast<ThreadSemaphore*>(object.get()) == nullptr &&
        !IsThreadChannelEnd(object.get())) {
      return absl::InvalidArgumentError(
          "a shared-state object made by another backend was passed to a "
          "thread child; make it with the context that starts the child");
    }
  }
  return absl::OkStatus();
}

int64_t OpenSharedObjectCount() { return open_shared_objects.load(); }

}  // namespace mproc::thread
