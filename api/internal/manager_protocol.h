// -----------------------------------------------------------------------------
// File: api/internal/manager_protocol.h
// -----------------------------------------------------------------------------
//
// Internal: the Manager wire format, one for every backend.
//
// A frame is a 4-byte little-endian payload length, then the payload
// (at most kMaxFramePayload bytes). A request payload is a varint Op and its
// fields; a reply payload is a varint absl::StatusCode, the message (bytes),
// and on OK the op's result. Append and Extend have no reply: an error they
// meet is kept by the server and returned by the connection's next
// synchronous request instead of that request's result.
//
//   Hello     authkey(bytes)                 -> -        (first frame, always)
//   CreateList                               -> id(varint)
//   Append    id(varint) item(bytes)         (no reply)
//   Extend    id(varint) count(varint) item(bytes)...   (no reply)
//   Size      id(varint)                     -> size(varint)
//   Get       id(varint) index(signed varint) -> item(bytes)
//   Snapshot  id(varint)                     -> count(varint) item(bytes)...
//   Shutdown                                 -> -        (server then stops)
//   Sync                                     -> -        (every earlier write
//                                                         is applied)

#ifndef MPROC_API_INTERNAL_MANAGER_PROTOCOL_H_
#define MPROC_API_INTERNAL_MANAGER_PROTOCOL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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
  kLastOp = kSync,
};

inline constexpr size_t kMaxFramePayload = 64 << 20;
inline constexpr size_t kAuthkeySize = 32;

// True for ops that get a reply.
bool IsSynchronous(Op op);

// Appends one frame holding `payload` to `out`.
void AppendFrame(absl::string_view payload, std::string& out);

// Reads whole frames from a Channel, buffering what it reads ahead.
class FrameReader {
 public:
  explicit FrameReader(Channel& channel) : channel_(channel) {}
  // The next frame's payload; std::nullopt at a clean end of stream (the peer
  // closed between frames). `kInvalidArgument` for an oversized frame,
  // `kUnavailable` for a stream cut mid-frame, the channel's error otherwise.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> Next();

 private:
  [[nodiscard]] absl::Status Fill(size_t needed);
  // One ReadSome (at most 64 KiB) appended to buffer_.
  [[nodiscard]] absl::StatusOr<size_t> ReadChunk();
  Channel& channel_;
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
