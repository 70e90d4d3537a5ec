#include "api/internal/manager_client.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/cancellation.h"
#include "api/internal/manager_handshake.h"
#include "api/internal/process_state.h"

namespace mproc::internal {
namespace {

// Pipelined writes are sent once this many bytes are queued.
constexpr size_t kFlushThreshold = 64 << 10;

std::string Request(Op op, absl::string_view fields = {}) {
  ByteWriter out;
  out.PutVarint(static_cast<uint64_t>(op));
  std::string payload = out.Release();
  payload.append(fields.data(), fields.size());
  return payload;
}

absl::StatusOr<std::shared_ptr<ManagerConnection>> ConnectionFor(
    const ManagerEndpoint& endpoint) {
  if (endpoint.shut_down.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError(
        "the Manager of this proxy has shut down; keep the Manager alive while "
        "its proxies are in use");
  }
  ProcessState& self = CurrentState();
  if (auto connection = self.FindConnection(endpoint.address)) {
    if (!connection->IsBroken()) return connection;
    // Its caller has been told it broke: drop it, and connect anew (unless
    // another thread has just done so).
    std::shared_ptr<ManagerConnection> taken =
        self.TakeConnection(endpoint.address);
    if (taken != nullptr && taken != connection) {
      self.AddConnection(endpoint.address, taken);
      return taken;
    }
  }
  absl::StatusOr<std::shared_ptr<ManagerConnection>> opened =
      ManagerConnection::Open(endpoint);
  if (!opened.ok()) return opened.status();
  // Another thread may have opened one meanwhile; either works, keep the first.
  if (auto connection = self.FindConnection(endpoint.address)) {
    (*opened)->Close();
    return connection;
  }
  self.AddConnection(endpoint.address, *opened);
  return opened;
}

// The bytes ByteWriter::PutBytes(item) writes.
size_t EncodedSize(absl::string_view item) {
  size_t size = 1;
  for (uint64_t n = item.size(); n >= 0x80; n >>= 7) ++size;
  return size + item.size();
}

absl::Status TooLarge(absl::string_view what, size_t size) {
  return absl::ResourceExhaustedError(
      absl::StrCat(what, " (", size,
                   " bytes) is too large for one Manager request (at most ",
                   kMaxFramePayload, " bytes); split it"));
}

}  // namespace

absl::StatusOr<std::string> CallOp(const ManagerEndpoint& endpoint, Op op,
                                   absl::string_view fields) {
  absl::StatusOr<std::shared_ptr<ManagerConnection>> connection =
      ConnectionFor(endpoint);
  if (!connection.ok()) return connection.status();
  return (*connection)->Call(Request(op, fields));
}

absl::Status PostOp(const ManagerEndpoint& endpoint, Op op,
                    absl::string_view fields) {
  absl::StatusOr<std::shared_ptr<ManagerConnection>> connection =
      ConnectionFor(endpoint);
  if (!connection.ok()) return connection.status();
  return (*connection)->Post(Request(op, fields));
}

void EncodeEndpoint(const ManagerEndpoint* endpoint, ByteWriter& out) {
  if (endpoint == nullptr) {
    out.PutBytes("");
    return;
  }
  out.PutBytes(endpoint->backend);
  out.PutBytes(endpoint->address);
  out.PutBytes(endpoint->authkey);
}

absl::StatusOr<std::shared_ptr<ManagerEndpoint>> DecodeEndpoint(
    ByteReader& in) {
  absl::StatusOr<absl::string_view> backend = in.GetBytes();
  if (!backend.ok()) return backend.status();
  if (backend->empty()) return std::shared_ptr<ManagerEndpoint>();
  absl::StatusOr<absl::string_view> address = in.GetBytes();
  if (!address.ok()) return address.status();
  absl::StatusOr<absl::string_view> authkey = in.GetBytes();
  if (!authkey.ok()) return authkey.status();
  if (authkey->size() != kAuthkeySize) {
    return absl::InvalidArgumentError(
        "malformed Manager proxy: the authkey has the wrong size");
  }
  if (FindBackend(*backend) == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "a Manager proxy names backend '", *backend,
        "', which is not linked into this program; link mproc::", *backend));
  }
  auto endpoint = std::make_shared<ManagerEndpoint>();
  endpoint->backend = std::string(*backend);
  endpoint->address = std::string(*address);
  endpoint->authkey = std::string(*authkey);
  return endpoint;
}

ManagerConnection::ManagerConnection(std::string address,
                                     std::unique_ptr<Channel> channel)
    : address_(std::move(address)),
      channel_(std::move(channel)),
      reader_(*channel_) {}

absl::StatusOr<std::shared_ptr<ManagerConnection>> ManagerConnection::Open(
    const ManagerEndpoint& endpoint) {
  Backend* backend = FindBackend(endpoint.backend);
  if (backend == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "backend '", endpoint.backend, "' is not linked into this program"));
  }
  absl::StatusOr<std::unique_ptr<Channel>> channel =
      backend->Connect(endpoint.address);
  if (!channel.ok()) {
    CancellationPoint();
    return absl::Status(
        channel.status().code(),
        absl::StrCat("cannot connect to the Manager at ", endpoint.address,
                     ": ", channel.status().message(),
                     "; the Manager has shut down or died: keep it running "
                     "while its proxies are in use"));
  }
  return OpenOn(endpoint, *std::move(channel));
}

absl::StatusOr<std::shared_ptr<ManagerConnection>> ManagerConnection::OpenOn(
    const ManagerEndpoint& endpoint, std::unique_ptr<Channel> channel) {
  Backend* backend = FindBackend(endpoint.backend);
  if (backend == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "backend '", endpoint.backend, "' is not linked into this program"));
  }
  std::shared_ptr<ManagerConnection> connection(
      new ManagerConnection(endpoint.address, std::move(channel)));
  absl::Status handshake;
  {
    absl::MutexLock lock(&connection->mu_);
    connection->reader_.set_max_payload(kMaxHandshakePayload);
    handshake = OfferHandshake(*backend, endpoint.authkey, endpoint.address,
                               *connection->channel_, connection->reader_);
    connection->reader_.set_max_payload(kMaxFramePayload);
  }
  if (!handshake.ok()) {
    connection->Close();
    if (absl::IsCancelled(handshake)) CancellationPoint();
    return handshake;
  }
  return connection;
}

bool ManagerConnection::IsBroken() const {
  return is_broken_.load(std::memory_order_acquire);
}

absl::Status ManagerConnection::Broken(absl::Status cause) {
  if (broken_.ok()) {
    broken_ = absl::UnavailableError(absl::StrCat(
        "lost the connection to the Manager at ", address_, ": ",
        cause.message(),
        "; writes not yet acknowledged may be lost; the next call connects "
        "again"));
    channel_->Close();
    is_broken_.store(true, std::memory_order_release);
    // This error reaches the caller now: nothing is left unreported.
    unacknowledged_ = false;
    pending_.clear();
  }
  return broken_;
}

absl::Status ManagerConnection::FlushLocked() {
  if (!broken_.ok()) return broken_;
  if (pending_.empty()) return absl::OkStatus();
  absl::Status written = channel_->WriteAll(pending_);
  pending_.clear();
  if (!written.ok()) return Broken(written);
  return absl::OkStatus();
}

absl::Status ManagerConnection::Post(absl::string_view payload) {
  if (payload.size() > kMaxFramePayload)
    return TooLarge("the item", payload.size());
  absl::MutexLock lock(&mu_);
  if (!broken_.ok()) return broken_;
  AppendFrame(payload, pending_);
  unacknowledged_ = true;
  if (pending_.size() >= kFlushThreshold) return FlushLocked();
  return absl::OkStatus();
}

absl::StatusOr<std::string> ManagerConnection::Call(absl::string_view payload) {
  if (payload.size() > kMaxFramePayload) {
    return TooLarge("the request", payload.size());
  }
  absl::MutexLock lock(&mu_);
  return CallLocked(payload);
}

absl::StatusOr<std::string> ManagerConnection::CallLocked(
    absl::string_view payload) {
  if (!broken_.ok()) return broken_;
  AppendFrame(payload, pending_);
  if (absl::Status s = FlushLocked(); !s.ok()) return s;
  absl::StatusOr<std::optional<std::string>> frame = reader_.Next();
  if (!frame.ok() && absl::IsCancelled(frame.status())) {
    // The reply is lost to this unwinding child: the connection is unusable.
    (void)Broken(frame.status());
    CancellationPoint();
  }
  if (!frame.ok()) return Broken(frame.status());
  if (!frame->has_value()) return Broken(absl::UnavailableError("closed"));
  unacknowledged_ = false;
  absl::string_view body;
  if (absl::Status s = DecodeReply(**frame, body); !s.ok()) return s;
  return std::string(body);
}

absl::Status ManagerConnection::Sync() {
  absl::MutexLock lock(&mu_);
  // Broken: its error has been reported, and nothing was written since.
  if (!broken_.ok()) return absl::OkStatus();
  if (!unacknowledged_) return absl::OkStatus();
  return CallLocked(Request(Op::kSync)).status();
}

void ManagerConnection::Close() {
  absl::MutexLock lock(&mu_);
  channel_->Close();
  if (broken_.ok()) broken_ = absl::UnavailableError("connection closed");
  is_broken_.store(true, std::memory_order_release);
}

bool ManagerConnection::HasUnacknowledgedWrites() {
  absl::MutexLock lock(&mu_);
  return unacknowledged_ && broken_.ok();
}

absl::Status PostAppend(const ManagerEndpoint& endpoint, uint64_t id,
                        absl::string_view item) {
  ByteWriter fields;
  fields.PutVarint(id);
  fields.PutBytes(item);
  return PostOp(endpoint, Op::kAppend, fields.data());
}

absl::Status PostExtend(const ManagerEndpoint& endpoint, uint64_t id,
                        gsl::span<const std::string> items) {
  // Room for the op, the id and the count around the items of one frame.
  constexpr size_t kOverhead = 32;
  for (const std::string& item : items) {
    if (EncodedSize(item) + kOverhead > kMaxFramePayload) {
      return TooLarge("an item", item.size());
    }
  }
  // Several frames when the items do not fit in one; the server applies
  // them in order, as one Extend.
  size_t begin = 0;
  do {
    size_t end = begin;
    size_t bytes = kOverhead;
    while (end < items.size() &&
           bytes + EncodedSize(items[end]) <= kMaxFramePayload) {
      bytes += EncodedSize(items[end]);
      ++end;
    }
    ByteWriter fields;
    fields.PutVarint(id);
    fields.PutVarint(end - begin);
    for (size_t i = begin; i < end; ++i) fields.PutBytes(items[i]);
    if (absl::Status s = PostOp(endpoint, Op::kExtend, fields.data());
        !s.ok()) {
      return s;
    }
    begin = end;
  } while (begin < items.size());
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> CallCreateList(const ManagerEndpoint& endpoint) {
  absl::StatusOr<std::string> body = CallOp(endpoint, Op::kCreateList);
  if (!body.ok()) return body.status();
  ByteReader in(*body);
  return in.GetVarint();
}

absl::StatusOr<int64_t> CallSize(const ManagerEndpoint& endpoint, uint64_t id) {
  ByteWriter fields;
  fields.PutVarint(id);
  absl::StatusOr<std::string> body = CallOp(endpoint, Op::kSize, fields.data());
  if (!body.ok()) return body.status();
  ByteReader in(*body);
  absl::StatusOr<uint64_t> size = in.GetVarint();
  if (!size.ok()) return size.status();
  return static_cast<int64_t>(*size);
}

absl::StatusOr<std::string> CallGet(const ManagerEndpoint& endpoint,
                                    uint64_t id, int64_t index) {
  ByteWriter fields;
  fields.PutVarint(id);
  fields.PutSignedVarint(index);
  absl::StatusOr<std::string> body = CallOp(endpoint, Op::kGet, fields.data());
  if (!body.ok()) return body.status();
  ByteReader in(*body);
  absl::StatusOr<absl::string_view> item = in.GetBytes();
  if (!item.ok()) return item.status();
  return std::string(*item);
}

absl::StatusOr<std::vector<std::string>> CallSnapshot(
    const ManagerEndpoint& endpoint, uint64_t id) {
  ByteWriter fields;
  fields.PutVarint(id);
  absl::StatusOr<std::string> body =
      CallOp(endpoint, Op::kSnapshot, fields.data());
  if (!body.ok()) return body.status();
  ByteReader in(*body);
  absl::StatusOr<uint64_t> count = in.GetCount(1);
  if (!count.ok()) return count.status();
  std::vector<std::string> items;
  items.reserve(*count);
  for (uint64_t i = 0; i < *count; ++i) {
    absl::StatusOr<absl::string_view> item = in.GetBytes();
    if (!item.ok()) return item.status();
    items.emplace_back(*item);
  }
  return items;
}

absl::Status CallShutdown(const ManagerEndpoint& endpoint) {
  return CallOp(endpoint, Op::kShutdown).status();
}

void DropConnection(const ManagerEndpoint& endpoint) {
  if (auto connection = CurrentState().TakeConnection(endpoint.address)) {
    (void)connection->Sync();
    connection->Close();
  }
}

}  // namespace mproc::internal
