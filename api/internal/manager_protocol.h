// -----------------------------------------------------------------------------
// File: api/internal/manager_protocol.h
// -----------------------------------------------------------------------------
//
// Internal: the Manager wire format, one for every backend.
//
// A frame is a 4-byte little-endian payload length, then the payload
// (at most kMaxFramePayload bytes; before the handshake has succeeded, at
// most kMaxHandshakePayload). A request payload is a varint Op and its
// fields; a reply payload is a varint absl::StatusCode, the message (bytes),
// and on OK the op's result. Append and Extend have no reply: an error they
// meet is kept by the server and returned by the connection's next
// synchronous request instead of that request's result.
//
// Handshake (mutual HMAC-SHA256 challenge-response, as CPython's
// multiprocessing.connection deliver_challenge / answer_challenge; the key
// never crosses the wire and every connection has fresh nonces, so a
// recorded handshake cannot be replayed):
//
//   server -> client  reply: OK, server_nonce (kNonceSize bytes)
//                     (or an error reply, e.g. kResourceExhausted when the
//                     server has too many connections, then it hangs up)
//   client -> server  Hello  answer(bytes) client_nonce(bytes)
//                     answer = HMAC(authkey, "mproc-client" server_nonce)
//   server -> client  reply: OK, proof (32 bytes)
//                     proof = HMAC(authkey, "mproc-server" client_nonce);
//                     or kUnauthenticated, then the server hangs up.
//   The client checks `proof` before it sends any request. A server drops a
//   connection whose handshake is not done within its handshake timeout.
//
// Requests, once authenticated:
//
//   CreateList                               -> id(varint)
//   Append    id(varint) item(bytes)         (no reply)
//   Extend    id(varint) count(varint) item(bytes)...   (no reply; a client
//                                               splits a large Extend into
//                                               several frames)
//   Size      id(varint)                     -> size(varint)
//   Get       id(varint) index(signed varint) -> item(bytes)
//   Snapshot  id(varint)                     -> count(varint) item(bytes)...
//   Shutdown                                 -> -        (server then stops)
//   Sync                                     -> -        (every earlier write
//                                                         is applied)
//
// The other shared types (docs/design.md §11). `timeout` is a signed varint
// of microseconds, negative for none; a blocking request waits on the
// server, in its connection's thread.
//
//   CreateDict                               -> id
//   DictSet      id key(bytes) value(bytes)  (no reply)
//   DictSetSync  id key(bytes) value(bytes)  -> -
//   DictGet      id key(bytes)               -> found(bool) [value(bytes)]
//   DictPop      id key(bytes)               -> value(bytes)   (kNotFound)
//   DictContains id key(bytes)               -> found(bool)
//   DictErase    id key(bytes)               -> -              (kNotFound)
//   DictSize     id                          -> size(varint)
//   DictKeys     id                          -> count key(bytes)...
//   DictItems    id                          -> count (key value)...
//   DictClear    id                          -> -
//   CreateQueue  maxsize(varint, 0: none)    -> id
//   QueuePut     id timeout item(bytes)      -> -   (kDeadlineExceeded)
//   QueueGet     id timeout                  -> item(bytes) (kDeadlineExceeded)
//   QueueSize    id                          -> size(varint)
//   CreateLock                               -> id
//   LockAcquire  id timeout                  -> taken(bool)  (kAborted: the
//                                               holder's connection ended;
//                                               the caller holds it now)
//   LockRelease  id                          -> -   (kFailedPrecondition)
//   CreateEvent                              -> id
//   EventSet / EventClear id                 -> -
//   EventIsSet   id                          -> set(bool)
//   EventWait    id timeout                  -> set(bool)
//   CreateValue  value(bytes)                -> id
//   ValueGet     id                          -> value(bytes)
//   ValueSet     id value(bytes)             (no reply)
//   ValueSetSync id value(bytes)             -> -
//
// A reply that would exceed the frame limit is replaced by a
// kResourceExhausted reply for that request alone.

#ifndef MPROC_API_INTERNAL_MANAGER_PROTOCOL_H_
#define MPROC_API_INTERNAL_MANAGER_PROTOCOL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/backend.h"
#include "api/wire.h"

namespace mproc::internal {

enum class Op : uint8_t {
  kHello = 1,
  kCreateList = 2,
  kAppend = 3,
  kExtend = 4,
  kSize = 5,
  kGet = 6,
  kSnapshot = 7,
  kShutdown = 8,
  kSync = 9,
  // Dict (issue 12 part 3); keys and values are Codec bytes.
  kCreateDict = 10,
  kDictSet = 11,
  kDictSetSync = 12,
  kDictGet = 13,
  kDictPop = 14,
  kDictContains = 15,
  kDictErase = 16,
  kDictSize = 17,
  kDictKeys = 18,
  kDictItems = 19,
  kDictClear = 20,
  // Queue.
  kCreateQueue = 21,
  kQueuePut = 22,
  kQueueGet = 23,
  kQueueSize = 24,
  // Lock.
  kCreateLock = 25,
  kLockAcquire = 26,
  kLockRelease = 27,
  // Event.
  kCreateEvent = 28,
  kEventSet = 29,
  kEventClear = 30,
  kEventIsSet = 31,
  kEventWait = 32,
  // Value.
  kCreateValue = 33,
  kValueGet = 34,
  kValueSet = 35,
  kValueSetSync = 36,
  kLastOp = kValueSetSync,
};

// A timeout on the wire: microseconds as a signed varint; negative: none
// (wait for ever). The server caps it (ServerLimits) and waits in slices.
inline constexpr int64_t kNoTimeout = -1;

inline constexpr size_t kMaxFramePayload = 64 << 20;
// The largest payload a peer may send before the handshake has succeeded
// (Hello and the server's replies need well under this).
inline constexpr size_t kMaxHandshakePayload = 256;
// The largest result body of one reply (the frame limit less the reply's
// status code and empty message).
inline constexpr size_t kMaxReplyBody = kMaxFramePayload - 16;
inline constexpr size_t kAuthkeySize = 32;
inline constexpr size_t kNonceSize = 32;

// True for ops that get a reply.
bool IsSynchronous(Op op);

// Appends one frame holding `payload` to `out`.
void AppendFrame(absl::string_view payload, std::string& out);

// Reads whole frames from a Channel, buffering what it reads ahead. Its
// buffer grows only as bytes arrive (at most kReadChunk per read), never to
// the size a frame header declares.
class FrameReader {
 public:
  static constexpr size_t kReadChunk = 64 << 10;

  explicit FrameReader(Channel& channel, size_t max_payload = kMaxFramePayload)
      : channel_(channel), max_payload_(max_payload) {}
  // The next frame's payload; std::nullopt at a clean end of stream (the peer
  // closed between frames). `kInvalidArgument` for a frame over the
  // max_payload limit, `kUnavailable` for a stream cut mid-frame,
  // `kDeadlineExceeded` past the deadline (set_deadline), the channel's error
  // otherwise.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> Next();
  // Sets the largest payload Next accepts (at most kMaxFramePayload).
  void set_max_payload(size_t max_payload) { max_payload_ = max_payload; }
  // Makes every later read give up at `deadline` (absl::InfiniteFuture():
  // never): Next then returns `kDeadlineExceeded`.
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }
  // The bytes the reader holds allocated (for tests).
  size_t buffer_capacity() const { return buffer_.capacity(); }
  // True when bytes read ahead (part or all of a frame) wait in the buffer.
  bool has_buffered() const { return buffer_.size() > start_; }
  // True when the peer has closed its end (or the channel failed), looked at
  // without waiting. Bytes the peer sent meanwhile are kept for Next (and
  // mean it is there).
  [[nodiscard]] bool PeerGone();

 private:
  [[nodiscard]] absl::Status Fill(size_t needed);
  // One ReadSome (at most 64 KiB) appended to buffer_.
  [[nodiscard]] absl::StatusOr<size_t> ReadChunk();
  Channel& channel_;
  size_t max_payload_;
  absl::Time deadline_ = absl::InfiniteFuture();
  std::unique_ptr<char[]> chunk_;  // ReadSome's target, allocated once
  std::string buffer_;
  size_t start_ = 0;
};

// Encodes a reply: status code, message, then `body` when OK.
std::string EncodeReply(const absl::Status& status, absl::string_view body);
// Decodes a reply; returns its status, and on OK sets `body` to the rest.
[[nodiscard]] absl::Status DecodeReply(absl::string_view payload,
                                       absl::string_view& body);

// Compares two byte strings in time that does not depend on where they differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_MANAGER_PROTOCOL_H_
