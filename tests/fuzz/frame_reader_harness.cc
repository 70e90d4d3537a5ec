// FrameReader over a channel that serves the input in fuzz-chosen chunks.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/internal/manager_protocol.h"
#include "api/wire.h"
#include "tests/fuzz/harnesses.h"
#include "tests/fuzz/scripted_transport.h"

namespace mproc::fuzz {
namespace {

using internal::AppendFrame;
using internal::FrameReader;
using internal::kMaxFramePayload;

constexpr size_t kHeaderBytes = 5;  // flags, then 4 chunk sizes

// The payload size the frame header at `at` claims, if a whole header is
// there.
std::optional<uint32_t> ClaimedSize(absl::string_view stream, size_t at) {
  if (stream.size() - at < 4) return std::nullopt;
  ByteReader header(stream.substr(at, 4));
  return *header.GetFixed32();
}

}  // namespace

absl::Status FuzzFrameReader(absl::string_view data) {
  if (data.size() < kHeaderBytes) return absl::OkStatus();
  const bool end_with_error = (data[0] & 1) != 0;
  std::vector<size_t> chunks;
  for (size_t i = 1; i < kHeaderBytes; ++i) {
    chunks.push_back(static_cast<uint8_t>(data[i]));
  }
  const absl::string_view stream = data.substr(kHeaderBytes);
  const absl::Status end = end_with_error
                               ? absl::DataLossError("scripted read error")
                               : absl::OkStatus();
  ScriptedChannel channel(std::string(stream), chunks, end);
  FrameReader reader(channel);

  std::string rebuilt;  // the frames returned so far, framed again
  while (true) {
    absl::StatusOr<std::optional<std::string>> frame = reader.Next();
    if (!frame.ok()) {
      const absl::Status& error = frame.status();
      const std::optional<uint32_t> claimed =
          ClaimedSize(stream, rebuilt.size());
      if (claimed.has_value() && *claimed > kMaxFramePayload) {
        if (absl::IsInvalidArgument(error)) return absl::OkStatus();
        return absl::InternalError(
            absl::StrCat("an oversized frame gave ", error.ToString(),
                         " instead of kInvalidArgument"));
      }
      if (end_with_error ? error == end : absl::IsUnavailable(error)) {
        if (rebuilt.size() < stream.size() || end_with_error) {
          return absl::OkStatus();
        }
      }
      return absl::InternalError(
          absl::StrCat("unexpected error after ", rebuilt.size(), " of ",
                       stream.size(), " bytes: ", error.ToString()));
    }
    if (!frame->has_value()) {
      if (end_with_error || rebuilt.size() != stream.size()) {
        return absl::InternalError(
            absl::StrCat("a clean end of stream after ", rebuilt.size(), " of ",
                         stream.size(), " bytes",
                         end_with_error ? " (stream ends in an "
                                          "error)"
                                        : ""));
      }
      return absl::OkStatus();
    }
    AppendFrame(**frame, rebuilt);
    if (rebuilt.size() > stream.size() ||
        stream.substr(0, rebuilt.size()) != rebuilt) {
      return absl::InternalError(
          "a frame returned is not the next frame of the stream");
    }
  }
}

}  // namespace mproc::fuzz
