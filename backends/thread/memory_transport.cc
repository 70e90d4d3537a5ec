// Thread backend only: in-memory pipes and listeners. Blocking calls watch
// mproc::CurrentStopToken() so a cancelled child unwinds from them.
#include "backends/thread/memory_transport.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <stop_token>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/cancellation.h"
#include "backends/thread/byte_queue.h"
#include "backends/thread/cancellable_wait.h"
#include "backends/thread/thread_resources.h"

namespace mproc::thread {
namespace {

std::atomic<int64_t> open_transports{0};

// Counts the objects that hold transport resources.
class Counted {
 protected:
  Counted() { open_transports.fetch_add(1); }
  ~Counted() { open_transports.fetch_sub(1); }
};

// One direction of a channel.
struct Pipe {
  absl::Mutex mu;
  ByteQueue bytes ABSL_GUARDED_BY(mu);
  bool writer_closed ABSL_GUARDED_BY(mu) = false;
  bool reader_closed ABSL_GUARDED_BY(mu) = false;
};

class MemoryChannel final : public Channel, Counted {
 public:
  MemoryChannel(std::shared_ptr<Pipe> in, std::shared_ptr<Pipe> out)
      : in_(std::move(in)), out_(std::move(out)) {}
  ~MemoryChannel() override { Close(); }

  absl::Status WriteAll(absl::string_view bytes) override {
    absl::MutexLock lock(&out_->mu);
    if (out_->writer_closed) {
      return absl::FailedPreconditionError("write on a closed channel");
    }
    if (out_->reader_closed) {
      return absl::UnavailableError("the peer closed the channel");
    }
    out_->bytes.Append(bytes);
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> ReadSomeUntil(gsl::span<char> buffer,
                                       absl::Time deadline) override {
    if (buffer.empty()) {
      return absl::InvalidArgumentError("ReadSome needs a non-empty buffer");
    }
    Pipe& pipe = *in_;
    const bool ready = LockWhenReadyOrStopped(
        pipe.mu,
        [&pipe]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return !pipe.bytes.empty() || pipe.writer_closed ||
                 pipe.reader_closed;
        },
        deadline);
    absl::StatusOr<size_t> result = size_t{0};  // the writer closed
    if (!ready && CurrentStopToken().stop_requested()) {
      result = absl::CancelledError("the calling child was cancelled");
    } else if (!ready) {
      result = absl::DeadlineExceededError("nothing to read by the deadline");
    } else if (pipe.reader_closed) {
      result = absl::FailedPreconditionError("read on a closed channel");
    } else if (!pipe.bytes.empty()) {
      result = pipe.bytes.TakeInto(buffer);
    }
    pipe.mu.Unlock();
    return result;
  }

  void Close() override {
    {
      absl::MutexLock lock(&in_->mu);
      in_->reader_closed = true;
    }
    absl::MutexLock lock(&out_->mu);
    out_->writer_closed = true;
  }

 private:
  const std::shared_ptr<Pipe> in_;
  const std::shared_ptr<Pipe> out_;
};

// Where connections wait for Accept.
struct Backlog {
  absl::Mutex mu;
  std::deque<std::unique_ptr<Channel>> pending ABSL_GUARDED_BY(mu);
  bool closed ABSL_GUARDED_BY(mu) = false;
};

struct Directory {
  absl::Mutex mu;
  absl::flat_hash_map<std::string, std::weak_ptr<Backlog>> listeners
      ABSL_GUARDED_BY(mu);
  uint64_t next_address ABSL_GUARDED_BY(mu) = 1;
};

Directory& GetDirectory() {
  static Directory* const directory = new Directory;  // never destroyed
  return *directory;
}

class MemoryListener final : public Listener, Counted {
 public:
  MemoryListener(std::string address, std::shared_ptr<Backlog> backlog)
      : address_(std::move(address)), backlog_(std::move(backlog)) {}
  ~MemoryListener() override { Close(); }

  std::string address() const override { return address_; }

  absl::StatusOr<std::unique_ptr<Channel>> Accept() override {
    Backlog& backlog = *backlog_;
    const bool ready = LockWhenReadyOrStopped(
        backlog.mu, [&backlog]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return !backlog.pending.empty() || backlog.closed;
        });
    absl::StatusOr<std::unique_ptr<Channel>> result =
        absl::CancelledError("the listener is closed");
    if (!ready) {
      result = absl::CancelledError("the calling child was cancelled");
    } else if (!backlog.closed) {
      result = std::move(backlog.pending.front());
      backlog.pending.pop_front();
    }
    backlog.mu.Unlock();
    return result;
  }

  void Close() override {
    {
      Directory& directory = GetDirectory();
      absl::MutexLock lock(&directory.mu);
      directory.listeners.erase(address_);
    }
    std::deque<std::unique_ptr<Channel>> dropped;
    absl::MutexLock lock(&backlog_->mu);
    backlog_->closed = true;
    dropped.swap(backlog_->pending);  // closes them, so their clients see EOF
  }

 private:
  const std::string address_;
  const std::shared_ptr<Backlog> backlog_;
};

}  // namespace

int64_t OpenTransportCount() { return open_transports.load(); }

std::unique_ptr<Listener> ListenInMemory() {
  auto backlog = std::make_shared<Backlog>();
  Directory& directory = GetDirectory();
  absl::MutexLock lock(&directory.mu);
  std::string address = absl::StrCat("thread:", directory.next_address++);
  directory.listeners[address] = backlog;
  return std::make_unique<MemoryListener>(std::move(address),
                                          std::move(backlog));
}

absl::StatusOr<std::unique_ptr<Channel>> ConnectInMemory(
    absl::string_view address) {
  std::shared_ptr<Backlog> backlog;
  {
    Directory& directory = GetDirectory();
    absl::MutexLock lock(&directory.mu);
    auto it = directory.listeners.find(address);
    if (it != directory.listeners.end()) backlog = it->second.lock();
  }
  auto refused = [address] {
    return absl::UnavailableError(
        absl::StrCat("nothing listens at ", address, " (connection refused)"));
  };
  if (backlog == nullptr) return refused();
  auto to_server = std::make_shared<Pipe>();
  auto to_client = std::make_shared<Pipe>();
  auto client = std::make_unique<MemoryChannel>(to_client, to_server);
  auto server = std::make_unique<MemoryChannel>(to_server, to_client);
  absl::MutexLock lock(&backlog->mu);
  if (backlog->closed) return refused();
  backlog->pending.push_back(std::move(server));
  return client;
}

}  // namespace mproc::thread
