// One process's side of a Connection (connection_core.h).
#include "api/internal/connection_core.h"

#include <array>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/cancellation.h"
#include "api/internal/handover.h"
#include "api/internal/process_state.h"

namespace mproc::internal {
namespace {

constexpr uint64_t kReadableFlag = 1;
constexpr uint64_t kWritableFlag = 2;

[[nodiscard]] absl::Status ClosedError() {
  return absl::FailedPreconditionError(
      "handle is closed; this Connection was closed in this process (Close), "
      "so it can neither send nor receive");
}

[[nodiscard]] absl::Status PeerGoneOnSend(const absl::Status& cause) {
  return absl::UnavailableError(
      absl::StrCat("the other end of the pipe has been closed (by every "
                   "process that held it, or its process ended), so nothing "
                   "sent here can be received; stop sending on this "
                   "connection (",
                   cause.message(), ")"));
}

[[nodiscard]] absl::Status PeerGoneOnRecv() {
  return absl::UnavailableError(
      "end of stream: the other end of the pipe has been closed (by every "
      "process that held it, or its process ended) and every message it sent "
      "has been received; stop receiving on this connection");
}

[[nodiscard]] absl::Status PeerGoneMidMessage() {
  return absl::UnavailableError(
      "the other end of the pipe was closed (or its process ended) in the "
      "middle of a message; that message is lost, and nothing more will "
      "arrive");
}

// A cancelled thread-backend child unwinds from a blocking call.
[[nodiscard]] absl::Status Unwind(absl::Status status) {
  if (absl::IsCancelled(status)) CancellationPoint();
  return status;
}

}  // namespace

ConnectionCore::ConnectionCore(Backend* backend,
                               std::shared_ptr<ChannelEnd> end, bool readable,
                               bool writable)
    : backend_(backend),
      end_(std::move(end)),
      readable_(readable),
      writable_(writable),
      source_(*end_),
      reader_(source_, kMaxMessageBytes) {}

ConnectionCore::~ConnectionCore() { Close(); }

absl::StatusOr<ConnectionCore::Use> ConnectionCore::BeginUse(bool reading) {
  absl::MutexLock lock(&state_mu_);
  if (closed_) return ClosedError();
  if (reading && !readable_) {
    return absl::FailedPreconditionError(
        "connection is write-only; receive on the other end of this one-way "
        "Pipe");
  }
  if (!reading && !writable_) {
    return absl::FailedPreconditionError(
        "connection is read-only; send on the other end of this one-way Pipe");
  }
  ++in_flight_;
  return Use(this);
}

void ConnectionCore::EndUse() {
  absl::MutexLock lock(&state_mu_);
  if (--in_flight_ == 0 && closed_ && !released_) {
    released_ = true;
    end_->Close();
  }
}

void ConnectionCore::Close() {
  absl::MutexLock lock(&state_mu_);
  if (closed_) return;
  closed_ = true;
  if (in_flight_ == 0) {
    released_ = true;
    end_->Close();
  }
}

bool ConnectionCore::closed() const {
  absl::MutexLock lock(&state_mu_);
  return closed_;
}

absl::Status ConnectionCore::Send(absl::string_view payload) {
  absl::StatusOr<Use> use = BeginUse(/*reading=*/false);
  if (!use.ok()) return use.status();
  if (payload.size() > kMaxMessageBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "a message of ", payload.size(), " bytes exceeds the limit of ",
        kMaxMessageBytes, " bytes; nothing was sent: send it in parts"));
  }
  std::string frame;
  frame.reserve(4 + payload.size());
  AppendFrame(payload, frame);
  absl::MutexLock lock(&send_mu_);
  absl::Status status = end_->WriteAll(frame);
  if (absl::IsUnavailable(status)) return PeerGoneOnSend(status);
  return Unwind(std::move(status));
}

absl::StatusOr<std::string> ConnectionCore::Recv(absl::Time deadline) {
  absl::StatusOr<Use> use = BeginUse(/*reading=*/true);
  if (!use.ok()) return use.status();
  absl::MutexLock lock(&recv_mu_);
  reader_.set_deadline(deadline);
  absl::StatusOr<std::optional<std::string>> frame = reader_.Next();
  buffered_.store(reader_.has_buffered(), std::memory_order_release);
  if (frame.ok()) {
    if (!frame->has_value()) return PeerGoneOnRecv();
    return **std::move(frame);
  }
  // FrameReader's kUnavailable is a stream cut in the middle of a frame.
  if (absl::IsUnavailable(frame.status())) return PeerGoneMidMessage();
  if (absl::IsDeadlineExceeded(frame.status())) {
    return absl::DeadlineExceededError(
        "no whole message arrived before the deadline (a part that did is "
        "kept for the next Recv)");
  }
  return Unwind(frame.status());
}

absl::StatusOr<bool> ConnectionCore::Poll(absl::Time deadline) {
  absl::StatusOr<Use> use = BeginUse(/*reading=*/true);
  if (!use.ok()) return use.status();
  if (HasBufferedBytes()) return true;
  ChannelEnd* const ends[] = {end_.get()};
  absl::StatusOr<Backend::Ready> ready =
      backend_->WaitReady(ends, /*children=*/{}, deadline);
  if (!ready.ok()) return Unwind(ready.status());
  return !ready->ends.empty();
}

void EncodeConnectionCore(const ConnectionCore& core, ByteWriter& out) {
  out.PutVarint((core.readable() ? kReadableFlag : 0) |
                (core.writable() ? kWritableFlag : 0));
  out.PutVarint(RecordHandover(core.shared_end()));
}

absl::StatusOr<std::shared_ptr<ConnectionCore>> DecodeConnectionCore(
    ByteReader& in) {
  absl::StatusOr<uint64_t> flags = in.GetVarint();
  if (!flags.ok()) return flags.status();
  if (*flags == 0 || *flags > (kReadableFlag | kWritableFlag)) {
    return absl::InvalidArgumentError(
        "malformed mproc message: bad Connection directions");
  }
  absl::StatusOr<uint64_t> index = in.GetVarint();
  if (!index.ok()) return index.status();
  absl::StatusOr<std::shared_ptr<SharedObject>> object = HandedOver(*index);
  if (!object.ok()) return object.status();
  std::shared_ptr<ChannelEnd> end =
      std::dynamic_pointer_cast<ChannelEnd>(*std::move(object));
  if (end == nullptr) {
    return absl::InvalidArgumentError(
        "malformed launch request: a handed-over object has the wrong kind");
  }
  // A handover table exists only in a child, which knows its launcher.
  Backend* backend = CurrentState().launcher();
  if (backend == nullptr) {
    return absl::InvalidArgumentError(
        "a Connection is decoded only in a child mproc started");
  }
  return std::make_shared<ConnectionCore>(backend, std::move(end),
                                          (*flags & kReadableFlag) != 0,
                                          (*flags & kWritableFlag) != 0);
}

}  // namespace mproc::internal
