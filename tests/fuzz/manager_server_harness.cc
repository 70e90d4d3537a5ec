// The Manager server's request handling, through the whole server
// (internal::ServeManager) over scripted in-memory clients.
//
// Input: up to kMaxClients client records, each
//   flags (1 byte)   bit 0: authenticate with the real key first (see
//                    ClientHandshake); bit 1: end the stream with a read
//                    error instead of a clean end; bits 2-7: read chunk size
//                    (0: any)
//   length (2 bytes, little-endian), then `length` bytes the client sends
//                    (the last record takes what is left if shorter).
//
// When api/internal/manager_store.h lands, a second harness can feed the
// same records' frames to ManagerStore::Apply directly: parse the records
// with ParseClients, split each authenticated client's bytes into frames,
// read the op varint and call Apply(op, reader, writer) -- only
// RunAgainstServer below is specific to ServeManager.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/internal/manager_protocol.h"
#include "api/internal/manager_server.h"
#include "api/wire.h"
#include "tests/fuzz/harnesses.h"
#include "tests/fuzz/scripted_transport.h"

namespace mproc::fuzz {
namespace {

constexpr size_t kMaxClients = 4;
constexpr absl::string_view kAuthkey = "mproc-fuzz-authkey-0123456789abc";
static_assert(kAuthkey.size() == internal::kAuthkeySize);

struct ClientScript {
  bool authenticate = false;
  bool end_with_error = false;
  size_t chunk = 0;
  std::string bytes;
};

std::vector<ClientScript> ParseClients(absl::string_view data) {
  std::vector<ClientScript> clients;
  while (data.size() >= 3 && clients.size() < kMaxClients) {
    const auto flags = static_cast<uint8_t>(data[0]);
    const size_t length =
        static_cast<uint8_t>(data[1]) |
        (static_cast<size_t>(static_cast<uint8_t>(data[2])) << 8);
    data.remove_prefix(3);
    const absl::string_view bytes = data.substr(0, length);
    data.remove_prefix(bytes.size());
    clients.push_back({.authenticate = (flags & 1) != 0,
                       .end_with_error = (flags & 2) != 0,
                       .chunk = static_cast<size_t>(flags >> 2),
                       .bytes = std::string(bytes)});
  }
  return clients;
}

// ClientHandshake
//
// The client's side of the Manager handshake, the one place that knows it:
// `Opening` is what the client sends before reading anything, `Respond` sees
// each write of the server and returns what the client sends next. Today
// the client sends Hello(authkey) and the server answers with one reply
// frame, after which the client's own bytes follow. (With a
// challenge-response handshake, Opening is empty and Respond answers the
// challenge, then releases `after` on the server's verdict.)
class ClientHandshake {
 public:
  explicit ClientHandshake(std::string after) : after_(std::move(after)) {}

  static std::string Opening() {
    ByteWriter hello;
    hello.PutVarint(static_cast<uint64_t>(internal::Op::kHello));
    hello.PutBytes(kAuthkey);
    std::string frame;
    internal::AppendFrame(hello.data(), frame);
    return frame;
  }

  std::string Respond(absl::string_view /*written*/) {
    if (done_) return "";
    done_ = true;
    return std::move(after_);
  }

 private:
  std::string after_;
  bool done_ = false;
};

std::shared_ptr<ScriptedChannel> MakeChannel(const ClientScript& client) {
  std::vector<size_t> chunks;
  if (client.chunk != 0) chunks.push_back(client.chunk);
  const absl::Status end = client.end_with_error
                               ? absl::DataLossError("scripted read error")
                               : absl::OkStatus();
  if (!client.authenticate) {
    return std::make_shared<ScriptedChannel>(client.bytes, chunks, end);
  }
  auto handshake = std::make_shared<ClientHandshake>(client.bytes);
  return std::make_shared<ScriptedChannel>(
      ClientHandshake::Opening(), chunks, end,
      [handshake](absl::string_view written) {
        return handshake->Respond(written);
      });
}

// Every byte the server wrote must be whole frames holding valid replies;
// a client without the key must never get an OK reply.
absl::Status CheckReplies(absl::string_view written, bool may_get_ok,
                          size_t client) {
  size_t at = 0;
  while (at < written.size()) {
    ByteReader header(written.substr(at));
    absl::StatusOr<uint32_t> size = header.GetFixed32();
    if (!size.ok() || *size > header.remaining()) {
      return absl::InternalError(absl::StrCat(
          "client ", client, ": the server wrote a partial frame"));
    }
    const absl::string_view payload = written.substr(at + 4, *size);
    at += 4 + *size;
    // A reply: a status code, a message, then (on OK) the body.
    ByteReader reply(payload);
    absl::StatusOr<uint64_t> code = reply.GetVarint();
    const bool well_formed =
        code.ok() && reply.GetBytes().ok() &&
        *code <= static_cast<uint64_t>(absl::StatusCode::kUnauthenticated);
    if (!well_formed) {
      return absl::InternalError(absl::StrCat(
          "client ", client, ": the server wrote a malformed reply"));
    }
    if (*code == 0 && !may_get_ok) {
      return absl::InternalError(
          absl::StrCat("client ", client, ": answered OK without the authkey"));
    }
  }
  return absl::OkStatus();
}

absl::Status RunAgainstServer(const std::vector<ClientScript>& clients) {
  std::vector<std::shared_ptr<ScriptedChannel>> channels;
  for (const ClientScript& client : clients) {
    channels.push_back(MakeChannel(client));
  }
  ScriptedListener listener(channels);
  const absl::Status served = internal::ServeManager(listener, kAuthkey);
  if (!served.ok() && !absl::IsCancelled(served)) {
    return absl::InternalError(absl::StrCat(
        "ServeManager returned an undocumented error: ", served.ToString()));
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    const bool holds_key = clients[i].authenticate ||
                           absl::StrContains(clients[i].bytes, kAuthkey);
    if (absl::Status s = CheckReplies(channels[i]->written(), holds_key, i);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status FuzzManagerServer(absl::string_view data) {
  return RunAgainstServer(ParseClients(data));
}

}  // namespace mproc::fuzz
