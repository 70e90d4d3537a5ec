// The Manager server's request handling, through the whole server
// (internal::ServeManager) over scripted in-memory clients, each served in
// turn on the accepting thread (InlineListener).
//
// Input: up to kMaxClients client records, each
//   flags (1 byte)   bit 0: authenticate with the real key first (see
//                    ClientHandshake); bit 1: end the stream with a read
//                    error instead of a clean end; bits 2-7: read chunk size
//                    (0: any)
//   length (2 bytes, little-endian), then `length` bytes the client sends
//                    (the last record takes what is left if shorter).
//
// The server runs on FuzzBackend: deterministic nonces and a deterministic
// stand-in for HMAC-SHA256 (a test double, never used outside this harness),
// so a run depends on the input alone. The requests themselves are also
// fuzzed without the server around them (manager_store_harness.cc).
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/backend.h"
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

// FuzzBackend
//
// Only what ServeManager asks of a backend: random bytes (a fixed pattern)
// and an HMAC (a deterministic mix of key and message: a test double, so
// the harness can answer the challenge without a crypto library).
class FuzzBackend final : public Backend {
 public:
  absl::string_view name() const override { return "fuzz"; }
  int priority() const override { return 0; }
  std::vector<StartMethod> start_methods() const override { return {}; }
  const Capabilities& capabilities() const override { return capabilities_; }
  int64_t HostPid() const override { return 1; }
  absl::Status SecureRandom(gsl::span<char> out) override {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(i * 7);
    return absl::OkStatus();
  }
  absl::StatusOr<std::array<char, kHmacSha256Size>> HmacSha256(
      absl::string_view key, absl::string_view message) override {
    std::array<char, kHmacSha256Size> mac{};
    uint64_t h = 1469598103934665603u;
    for (absl::string_view part : {key, message}) {
      for (char c : part) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211u;
    }
    for (char& c : mac) {
      h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9u;
      c = static_cast<char>(h >> 56);
    }
    return mac;
  }
  absl::StatusOr<std::shared_ptr<SharedMemory>> CreateSharedMemory(
      size_t) override {
    return absl::UnimplementedError("fuzz backend");
  }
  absl::StatusOr<std::shared_ptr<OsSemaphore>> CreateOsSemaphore(
      uint32_t) override {
    return absl::UnimplementedError("fuzz backend");
  }
  absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>> ChannelPair()
      override {
    return absl::UnimplementedError("fuzz backend");
  }
  absl::StatusOr<Ready> WaitReady(gsl::span<ChannelEnd* const>,
                                  gsl::span<Child* const>,
                                  absl::Time) override {
    return absl::UnimplementedError("fuzz backend");
  }
  bool IsProcessAlive(int64_t) override { return true; }
  absl::StatusOr<std::unique_ptr<Child>> Launch(const LaunchRequest&) override {
    return absl::UnimplementedError("fuzz backend");
  }
  absl::StatusOr<std::unique_ptr<Listener>> Listen() override {
    return absl::UnimplementedError("fuzz backend");
  }
  absl::StatusOr<std::unique_ptr<Channel>> Connect(absl::string_view) override {
    return absl::UnimplementedError("fuzz backend");
  }

 private:
  Capabilities capabilities_;
};

// ClientHandshake
//
// The client's side of the Manager handshake (manager_protocol.h), the one
// place of this harness that knows it: `Respond` sees each write of the
// server and returns what the client sends next. It answers the server's
// challenge with Hello, and once the server has sent its proof, sends the
// scripted bytes `after`.
class ClientHandshake {
 public:
  explicit ClientHandshake(std::string after) : after_(std::move(after)) {}

  std::string Respond(absl::string_view written) {
    ++writes_;
    if (writes_ == 2) return std::move(after_);  // the server's proof
    if (writes_ != 1) return "";
    // The challenge: a reply frame whose body is the server's nonce.
    absl::string_view body;
    if (written.size() < 4 ||
        !internal::DecodeReply(written.substr(4), body).ok()) {
      return "";
    }
    FuzzBackend backend;
    absl::StatusOr<std::array<char, kHmacSha256Size>> answer =
        backend.HmacSha256(kAuthkey, absl::StrCat("mproc-client", body));
    ByteWriter hello;
    hello.PutVarint(static_cast<uint64_t>(internal::Op::kHello));
    hello.PutBytes(absl::string_view(answer->data(), answer->size()));
    hello.PutBytes(std::string(internal::kNonceSize, 'n'));
    std::string frame;
    internal::AppendFrame(hello.data(), frame);
    return frame;
  }

 private:
  std::string after_;
  int writes_ = 0;
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
      "", chunks, end, [handshake](absl::string_view written) {
        return handshake->Respond(written);
      });
}

// Every byte the server wrote must be whole frames holding valid replies;
// a client without the key gets one OK reply (the challenge), never another.
absl::Status CheckReplies(absl::string_view written, bool may_get_ok,
                          size_t client) {
  size_t at = 0;
  int replies = 0;
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
    if (*code == 0 && !may_get_ok && ++replies > 1) {
      return absl::InternalError(
          absl::StrCat("client ", client, ": answered OK without the authkey"));
    }
  }
  return absl::OkStatus();
}

// InlineListener
//
// Serves each connection on the accepting thread instead of a thread of its
// own: ServeManager's start_thread hands the connection's body here, and the
// next Accept runs it before taking the next client. The scripted clients
// never block and come one after another anyway (ScriptedListener), so a run
// is deterministic and creates no thread (several times more executions a
// second).
class InlineListener : public Listener {
 public:
  explicit InlineListener(ScriptedListener& inner) : inner_(inner) {}

  std::string address() const override { return inner_.address(); }
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Channel>> Accept() override {
    RunPending();
    return inner_.Accept();
  }
  void Close() override { inner_.Close(); }

  internal::ServerOptions Options() {
    internal::ServerOptions options;
    // Blocking requests (a queue's Get on an empty queue, ...) answer at
    // once: the clients come one after another on one thread.
    options.max_wait = absl::ZeroDuration();
    options.start_thread = [this](std::function<void()> body) {
      pending_.push_back(std::move(body));
      return std::thread();  // not joinable: the server does not join it
    };
    return options;
  }

 private:
  void RunPending() {
    std::vector<std::function<void()>> bodies = std::move(pending_);
    pending_.clear();
    for (std::function<void()>& body : bodies) body();
  }

  ScriptedListener& inner_;
  // Only the accepting thread touches it.
  std::vector<std::function<void()>> pending_;
};

absl::Status RunAgainstServer(const std::vector<ClientScript>& clients) {
  std::vector<std::shared_ptr<ScriptedChannel>> channels;
  for (const ClientScript& client : clients) {
    channels.push_back(MakeChannel(client));
  }
  ScriptedListener scripted(channels);
  InlineListener listener(scripted);
  FuzzBackend backend;
  const absl::Status served =
      internal::ServeManager(listener, backend, kAuthkey, listener.Options());
  if (!served.ok() && !absl::IsCancelled(served)) {
    return absl::InternalError(absl::StrCat(
        "ServeManager returned an undocumented error: ", served.ToString()));
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    if (absl::Status s =
            CheckReplies(channels[i]->written(), clients[i].authenticate, i);
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
