// The Manager's request handling without a server around it
// (internal::ManagerStore::Apply): what an authenticated client's frames do.
//
// Input: requests, each a 2-byte little-endian length and that many bytes of
// payload (a varint Op, then its fields), applied in order to one store
// whose replies are capped at kMaxReply bytes (so the "reply too large"
// path is reached with small inputs). Requests come from two connections in
// turn (a request's first byte, when odd, switches), and a request whose
// length has its top bit set closes its connection first, so a lock's
// holder and its abandonment are fuzzed too. Blocking requests never wait
// (RequestContext's max_wait is zero).
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/internal/manager_protocol.h"
#include "api/internal/manager_store.h"
#include "api/wire.h"
#include "tests/fuzz/harnesses.h"

namespace mproc::fuzz {
namespace {

constexpr size_t kMaxReply = 4096;

// The codes ManagerStore::Apply documents.
bool IsDocumented(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::Status FuzzManagerStore(absl::string_view data) {
  internal::ManagerStore store(kMaxReply);
  int request = 0;
  internal::RequestContext context{.connection = 1};
  while (data.size() >= 2) {
    size_t length = static_cast<uint8_t>(data[0]) |
                    (static_cast<size_t>(static_cast<uint8_t>(data[1])) << 8);
    if ((length & 0x8000) != 0) {
      store.ConnectionClosed(context.connection);
      length &= 0x7fff;
    }
    if ((static_cast<uint8_t>(data[0]) & 1) != 0) {
      context.connection = 3 - context.connection;  // 1 <-> 2
    }
    data.remove_prefix(2);
    const absl::string_view payload = data.substr(0, length);
    data.remove_prefix(payload.size());
    ++request;
    ByteReader in(payload);
    absl::StatusOr<uint64_t> op = in.GetVarint();
    if (!op.ok() || *op < static_cast<uint64_t>(internal::Op::kHello) ||
        *op > static_cast<uint64_t>(internal::Op::kLastOp)) {
      continue;  // the server drops such a connection before Apply
    }
    ByteWriter reply;
    const absl::Status applied =
        store.Apply(static_cast<internal::Op>(*op), in, reply, context);
    if (!IsDocumented(applied.code())) {
      return absl::InternalError(absl::StrCat(
          "request ", request, ": undocumented error ", applied.ToString()));
    }
    if (reply.data().size() > kMaxReply) {
      return absl::InternalError(absl::StrCat(
          "request ", request, ": a reply of ", reply.data().size(),
          " bytes exceeds the store's limit of ", kMaxReply));
    }
  }
  return absl::OkStatus();
}

}  // namespace mproc::fuzz
