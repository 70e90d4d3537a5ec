// -----------------------------------------------------------------------------
// File: api/internal/connection_core.h
// -----------------------------------------------------------------------------
//
// Internal: one process's side of one Connection (api/pipe.h): the channel
// end it holds, and what framing it on that end needs. Messages are the
// Manager's frames (api/internal/manager_protocol.h: a 4-byte length, then
// the payload), written with one WriteAll and read through a FrameReader,
// which reads ahead at most 64 KiB at a time and keeps a frame cut by a
// deadline for the next read.
//
// Concurrency: one Send and one Recv may run at once (other senders and
// receivers wait for their turn), Poll and Wait alongside both. Close may come
// from any thread at any time: the end is released when the last call in
// flight returns (a call blocked on the end is not woken).

#ifndef MPROC_API_INTERNAL_CONNECTION_CORE_H_
#define MPROC_API_INTERNAL_CONNECTION_CORE_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/backend.h"
#include "api/internal/manager_protocol.h"
#include "api/wire.h"

namespace mproc::internal {

// The largest message a Connection sends or accepts (the Manager's frame
// limit).
inline constexpr size_t kMaxMessageBytes = kMaxFramePayload;

class ConnectionCore {
 public:
  // One call in flight: keeps the end held until it is destroyed.
  class Use {
   public:
    explicit Use(ConnectionCore* core) : core_(core) {}
    Use(Use&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}
    Use& operator=(Use&&) = delete;
    ~Use() {
      if (core_ != nullptr) core_->EndUse();
    }

   private:
    ConnectionCore* core_;
  };

  ConnectionCore(Backend* backend, std::shared_ptr<ChannelEnd> end,
                 bool readable, bool writable);
  ~ConnectionCore();
  ConnectionCore(const ConnectionCore&) = delete;
  ConnectionCore& operator=(const ConnectionCore&) = delete;

  // Sends one message. Errors: kFailedPrecondition (closed, read-only),
  // kResourceExhausted (over kMaxMessageBytes, nothing sent), kUnavailable
  // (the peer has gone), the end's other errors.
  [[nodiscard]] absl::Status Send(absl::string_view payload);
  // Receives one message by `deadline`. Errors: kFailedPrecondition (closed,
  // write-only), kDeadlineExceeded (nothing whole by the deadline; a part
  // already read is kept for the next call), kUnavailable (the peer has gone,
  // before or in the middle of a message), kInvalidArgument (a malformed
  // frame), the end's other errors.
  [[nodiscard]] absl::StatusOr<std::string> Recv(absl::Time deadline);
  // True when a Recv would not wait: bytes have arrived (or were read
  // ahead), or the peer has gone. Errors as Recv's, but never
  // kDeadlineExceeded.
  [[nodiscard]] absl::StatusOr<bool> Poll(absl::Time deadline);
  // Idempotent; see the file comment.
  void Close();

  // Starts a call that reads (`reading`) or writes: kFailedPrecondition when
  // the connection is closed or has no such direction.
  [[nodiscard]] absl::StatusOr<Use> BeginUse(bool reading);
  // True when bytes read ahead wait in this process (Wait counts the
  // connection ready without asking the backend).
  bool HasBufferedBytes() const {
    return buffered_.load(std::memory_order_acquire);
  }

  Backend* backend() const { return backend_; }
  ChannelEnd* end() const { return end_.get(); }
  const std::shared_ptr<ChannelEnd>& shared_end() const { return end_; }
  bool readable() const { return readable_; }
  bool writable() const { return writable_; }
  bool closed() const;

 private:
  // FrameReader reads from a Channel: this one reads from the end.
  class EndSource final : public Channel {
   public:
    explicit EndSource(ChannelEnd& end) : end_(end) {}
    absl::Status WriteAll(absl::string_view) override {
      return absl::InternalError("EndSource is read-only");
    }
    absl::StatusOr<size_t> ReadSomeUntil(gsl::span<char> buffer,
                                         absl::Time deadline) override {
      return end_.ReadSomeUntil(buffer, deadline);
    }
    void Close() override {}

   private:
    ChannelEnd& end_;
  };

  void EndUse();

  Backend* const backend_;
  const std::shared_ptr<ChannelEnd> end_;
  const bool readable_;
  const bool writable_;

  mutable absl::Mutex state_mu_;
  bool closed_ ABSL_GUARDED_BY(state_mu_) = false;
  bool released_ ABSL_GUARDED_BY(state_mu_) = false;
  int in_flight_ ABSL_GUARDED_BY(state_mu_) = 0;

  absl::Mutex send_mu_;  // one sender at a time: frames never interleave

  absl::Mutex recv_mu_;  // one receiver at a time
  EndSource source_;
  FrameReader reader_ ABSL_GUARDED_BY(recv_mu_);
  std::atomic<bool> buffered_{false};
};

// Encodes `core` as a target argument: its directions and its end's index in
// the handover table.
void EncodeConnectionCore(const ConnectionCore& core, ByteWriter& out);
// The inverse, in the child: a new core on the end it was handed.
// kInvalidArgument when the end was not handed over (encoded outside a
// target's arguments) or the input is malformed.
[[nodiscard]] absl::StatusOr<std::shared_ptr<ConnectionCore>>
DecodeConnectionCore(ByteReader& in);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_CONNECTION_CORE_H_
