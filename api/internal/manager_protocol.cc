#include "api/internal/manager_protocol.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "api/fork_safety.h"
#include "gsl/narrow"

namespace mproc::internal {

bool IsSynchronous(Op op) {
  return op != Op::kAppend && op != Op::kExtend && op != Op::kDictSet &&
         op != Op::kValueSet;
}

void AppendFrame(absl::string_view payload, std::string& out) {
  ByteWriter header;
  header.PutFixed32(gsl::narrow<uint32_t>(payload.size()));
  out.append(header.data());
  out.append(payload.data(), payload.size());
}

absl::StatusOr<size_t> FrameReader::ReadChunk() {
  // Not zero-filled: a fresh process would fault in all of its pages, where
  // a read touches only those it fills.
  if (chunk_ == nullptr) {
    chunk_ = std::make_unique_for_overwrite<char[]>(kReadChunk);
  }
  absl::StatusOr<size_t> got = channel_.ReadSomeUntil(
      gsl::span<char>(chunk_.get(), kReadChunk), deadline_);
  if (got.ok()) buffer_.append(chunk_.get(), *got);
  return got;
}

bool FrameReader::PeerGone() {
  if (has_buffered()) return false;
  if (chunk_ == nullptr) {
    chunk_ = std::make_unique_for_overwrite<char[]>(kReadChunk);
  }
  absl::StatusOr<size_t> got = channel_.ReadSomeUntil(
      gsl::span<char>(chunk_.get(), kReadChunk), ForkSafeNow());
  if (absl::IsDeadlineExceeded(got.status())) return false;
  if (!got.ok() || *got == 0) return true;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  buffer_.append(chunk_.get(), *got);
  return false;
}

absl::Status FrameReader::Fill(size_t needed) {
  while (buffer_.size() - start_ < needed) {
    // Drop the frames already returned before reading more, or the buffer
    // grows with everything the connection ever carried.
    if (start_ > 0) {
      buffer_.erase(0, start_);
      start_ = 0;
    }
    absl::StatusOr<size_t> got = ReadChunk();
    if (!got.ok()) return got.status();
    if (*got == 0) {
      return absl::UnavailableError("connection closed by the peer");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> FrameReader::Next() {
  if (buffer_.size() == start_) {
    buffer_.clear();
    start_ = 0;
    // Keep no large buffer while the connection is idle.
    if (buffer_.capacity() > 4 * kReadChunk) buffer_.shrink_to_fit();
    // A clean end of stream is only possible between frames.
    absl::StatusOr<size_t> got = ReadChunk();
    if (!got.ok()) return got.status();
    if (*got == 0) return std::optional<std::string>();
  }
  if (absl::Status s = Fill(4); !s.ok()) return s;
  ByteReader header(absl::string_view(buffer_).substr(start_, 4));
  const uint32_t size = *header.GetFixed32();
  if (size > max_payload_) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed mproc frame: payload of ", size,
                     " bytes exceeds the limit of ", max_payload_));
  }
  if (absl::Status s = Fill(4 + size); !s.ok()) return s;
  std::string payload = buffer_.substr(start_ + 4, size);
  start_ += 4 + size;
  return std::optional<std::string>(std::move(payload));
}

std::string EncodeReply(const absl::Status& status, absl::string_view body) {
  ByteWriter out;
  out.PutVarint(static_cast<uint64_t>(status.code()));
  out.PutBytes(status.message());
  std::string reply = out.Release();
  if (status.ok()) reply.append(body.data(), body.size());
  return reply;
}

absl::Status DecodeReply(absl::string_view payload, absl::string_view& body) {
  ByteReader in(payload);
  absl::StatusOr<uint64_t> code = in.GetVarint();
  if (!code.ok()) return code.status();
  absl::StatusOr<absl::string_view> message = in.GetBytes();
  if (!message.ok()) return message.status();
  if (*code > static_cast<uint64_t>(absl::StatusCode::kUnauthenticated)) {
    return absl::InvalidArgumentError(
        "malformed mproc reply: unknown status code");
  }
  if (*code != 0) {
    return absl::Status(static_cast<absl::StatusCode>(*code), *message);
  }
  body = payload.substr(payload.size() - in.remaining());
  return absl::OkStatus();
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace mproc::internal
