// -----------------------------------------------------------------------------
// File: api/pipe.h
// -----------------------------------------------------------------------------
//
// Pipe and Connection, as CPython's multiprocessing.Pipe and
// multiprocessing.connection.Connection:
//
//   absl::StatusOr<std::pair<mproc::Connection, mproc::Connection>> pipe =
//       ctx.Pipe();
//   auto& [parent_end, child_end] = *pipe;
//   mproc::Process p = ctx.NewProcess(mproc::Target(&Worker, child_end));
//   if (absl::Status s = p.Start(); !s.ok()) return s;
//   child_end.Close();  // the child holds it now
//   absl::Status sent = parent_end.Send(int64_t{42});
//   absl::StatusOr<std::string> reply = parent_end.Recv<std::string>();
//
// A message is any value with a Codec (api/codec.h), or raw bytes
// (SendBytes / RecvBytes); it arrives whole and in order, up to
// kMaxMessageBytes (64 MiB) each. A Connection reaches a child as a target
// argument (registered targets on every start method; a closure on posix:fork
// cannot use one it captured, and on thread shares this process's). The child
// then holds the end as well, as a forked process holds a descriptor: the
// peer sees end-of-stream only once every process that held the end has
// closed it (Close, or its end). So, as in CPython, close in the parent the
// end you gave a child.
//
// Errors, the same on every backend:
// - the peer has gone (closed everywhere, or its process ended):
//   `kUnavailable`, never a hang or SIGPIPE. Recv returns it once every
//   message sent before has been received (CPython's EOFError);
// - a deadline or timeout that passes: `kDeadlineExceeded` (a message cut by
//   it is kept, whole, for the next Recv);
// - a Connection closed in this process, or used in a direction it does not
//   have (one-way Pipe): `kFailedPrecondition`, with CPython's phrase ("handle
//   is closed", "connection is read-only", "connection is write-only");
// - a message over kMaxMessageBytes: `kResourceExhausted`, nothing sent;
// - a message that is not a `T` (Recv<T>): `kInvalidArgument` (the message is
//   consumed).
// A blocked Send, Recv or Poll is a cancellation point on the thread backend.

#ifndef MPROC_API_PIPE_H_
#define MPROC_API_PIPE_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/codec.h"
#include "api/context.h"
#include "api/internal/connection_core.h"
#include "api/internal/shared_parts.h"

namespace mproc {

// The largest message one Send carries (its encoded size).
inline constexpr size_t kMaxMessageBytes = internal::kMaxMessageBytes;

// Connection
//
// One end of a Pipe. A cheap, copyable handle: copies are the same
// connection (Close on one closes all of them in this process). Thread-safe:
// one Send and one Recv may run at once (further senders and receivers wait
// for their turn, so messages never interleave). Close may be called from
// any thread; it does not interrupt a Recv blocked in another thread (that
// one returns at its deadline or when the peer sends or goes).
class Connection {
 public:
  // Sends `value`, encoded with its Codec. Errors: see the file comment.
  template <HasCodec T>
  [[nodiscard]] absl::Status Send(const T& value) const {
    return core_->Send(EncodeValue(value));
  }

  // Receives one message and decodes it as a `T`, waiting up to `timeout`
  // (absl::InfiniteDuration(): for ever; zero or less: only what has
  // arrived). Errors: see the file comment.
  template <HasCodec T>
  [[nodiscard]] absl::StatusOr<T> Recv(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    return Recv<T>(internal::DeadlineOf(timeout));
  }
  // The same, waiting until `deadline`.
  template <HasCodec T>
  [[nodiscard]] absl::StatusOr<T> Recv(absl::Time deadline) const {
    absl::StatusOr<std::string> bytes = core_->Recv(deadline);
    if (!bytes.ok()) return bytes.status();
    return DecodeValue<T>(*bytes);
  }

  // Sends `bytes` as one message, as they are (CPython's send_bytes).
  [[nodiscard]] absl::Status SendBytes(absl::string_view bytes) const {
    return core_->Send(bytes);
  }
  // Receives one message as bytes (CPython's recv_bytes), waiting as Recv.
  [[nodiscard]] absl::StatusOr<std::string> RecvBytes(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    return core_->Recv(internal::DeadlineOf(timeout));
  }
  [[nodiscard]] absl::StatusOr<std::string> RecvBytes(
      absl::Time deadline) const {
    return core_->Recv(deadline);
  }

  // True when a Recv would not wait: a message (or its first bytes) has
  // arrived, or the peer has gone (Recv then says so). Waits up to `timeout`
  // (default: only looks, as CPython's poll()). `kFailedPrecondition` when
  // closed or write-only.
  [[nodiscard]] absl::StatusOr<bool> Poll(
      absl::Duration timeout = absl::ZeroDuration()) const {
    return core_->Poll(internal::DeadlineOf(timeout));
  }

  // Lets go of this process's hold on the end (the peer sees end-of-stream
  // once no other process holds it). Idempotent. Later calls return
  // `kFailedPrecondition` ("handle is closed"), and so does starting a child
  // with this Connection among its arguments.
  void Close() const { core_->Close(); }

  bool closed() const { return core_->closed(); }
  // False for the sending end of a one-way Pipe.
  bool readable() const { return core_->readable(); }
  // False for the receiving end of a one-way Pipe.
  bool writable() const { return core_->writable(); }

  // True when both are handles on the same connection.
  friend bool operator==(const Connection& a, const Connection& b) {
    return a.core_ == b.core_;
  }

 private:
  friend class Context;
  friend class WaitObject;
  friend struct Codec<Connection>;
  explicit Connection(std::shared_ptr<internal::ConnectionCore> core)
      : core_(std::move(core)) {}

  std::shared_ptr<internal::ConnectionCore> core_;
};

// A Connection travels as its directions and its end's place in the
// handover table (api/internal/handover.h): only as a target argument.
template <>
struct Codec<Connection> {
  static void Encode(const Connection& connection, ByteWriter& out) {
    internal::EncodeConnectionCore(*connection.core_, out);
  }
  [[nodiscard]] static absl::StatusOr<Connection> Decode(ByteReader& in) {
    absl::StatusOr<std::shared_ptr<internal::ConnectionCore>> core =
        internal::DecodeConnectionCore(in);
    if (!core.ok()) return core.status();
    return Connection(*std::move(core));
  }
};

}  // namespace mproc

#endif  // MPROC_API_PIPE_H_
