// -----------------------------------------------------------------------------
// File: api/manager.h
// -----------------------------------------------------------------------------
//
// A Manager is a server *process* that holds shared data; proxies reach it
// from any process of the program's family, as CPython's SyncManager.
//
//   absl::StatusOr<mproc::Manager> manager = ctx.StartManager();
//   absl::StatusOr<mproc::ListProxy<double>> out = manager->List<double>();
//   ctx.NewProcess(mproc::Target(&DoSomething, 1000, *out)) ... Start, Join
//   absl::StatusOr<int64_t> n = out->Size();   // 1000
//
// The server is started through the same context as any child, so every
// lifecycle rule applies to it (a daemon cannot start one). Its default name
// takes the next `Process-N` number of the starting process.
//
// Ordering and visibility:
// - Append / Extend are pipelined: they return at once; writes keep their
//   order per connection; an error they meet on the server is reported by the
//   caller's next synchronous call.
// - Size / Get / Snapshot are synchronous and see every earlier write of the
//   caller.
// - A child's writes are all visible to its parent once Join has returned
//   (the child flushes before it ends); the parent's writes made before Start
//   are visible to the child (Start flushes them).
// - The same holds for every proxy type: DictProxy::Set and
//   ValueProxy::SetPipelined are pipelined as Append; every other call is
//   synchronous.
// A proxy used in another process opens that process's own connection,
// lazily, once; a connection is never shared across processes. Every proxy
// has a Codec carrying the server's address and authkey: it can be a target
// argument, or be sent to a process that is already running (through a
// Pipe, a Manager queue or dict, ...), which then connects on first use.
// Sending a proxy through a Pipe does not flush this process's pipelined
// writes: make a synchronous call first (e.g. DictProxy::SetSync) when the
// receiver must see them.
//
// The types (docs/design.md §11): ListProxy<T> (here), DictProxy<K, V>
// (api/manager_dict.h), QueueProxy<T> (api/manager_queue.h), LockProxy and
// EventProxy (api/manager_sync.h), ValueProxy<T> (api/manager_value.h).
// Blocking calls (a queue's Put and Get, a lock's Acquire, an event's Wait)
// wait on the server; while one waits, the calling process's other calls to
// the same Manager wait behind it (one connection per process).
//
// Errors from proxies: `kFailedPrecondition` for an unbound proxy or one
// whose Manager this process has shut down; `kUnavailable` when the server
// cannot be reached ("has shut down or died") or the connection broke during
// the call (writes not yet acknowledged may be lost; the next call connects
// again); `kOutOfRange` for a bad index; `kInvalidArgument` when an item
// cannot be decoded as T; `kNotFound` for a missing dict key (Get, Pop,
// Erase); `kDeadlineExceeded` for a queue's Put or Get past its timeout;
// `kAborted` for a lock taken from a holder that ended; `kResourceExhausted`
// for an item or a reply larger than one frame (64 MiB: that call alone fails,
// the connection goes on) or when the server has too many connections;
// `kUnauthenticated` when the server (or the client) cannot prove it holds the
// Manager's authkey.

#ifndef MPROC_API_MANAGER_H_
#define MPROC_API_MANAGER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/context.h"
#include "api/internal/manager_client.h"
#include "api/internal/manager_proxy.h"
#include "api/manager_dict.h"
#include "api/manager_queue.h"
#include "api/manager_sync.h"
#include "api/manager_value.h"
#include "gsl/span"

namespace mproc {

namespace internal {
class ManagerCore;
}  // namespace internal

// ListProxy<T>
//
// A handle on one list held by a Manager. Copyable and cheap; passable to
// children as a target argument (it has a Codec). Thread-safe.
template <HasCodec T>
class ListProxy {
 public:
  // An unbound proxy: every call returns `kFailedPrecondition`.
  ListProxy() = default;

  // Appends `value` (pipelined).
  [[nodiscard]] absl::Status Append(const T& value) const {
    if (absl::Status s = CheckBound(); !s.ok()) return s;
    return internal::PostAppend(*endpoint_, id_, EncodeValue(value));
  }

  // Appends every value in order (pipelined; split into several frames when
  // the values exceed one, applied in order). `kResourceExhausted`, and
  // nothing sent, when one value alone exceeds a frame.
  [[nodiscard]] absl::Status Extend(gsl::span<const T> values) const {
    if (absl::Status s = CheckBound(); !s.ok()) return s;
    std::vector<std::string> items;
    items.reserve(values.size());
    for (const T& v : values) items.push_back(EncodeValue(v));
    return internal::PostExtend(*endpoint_, id_, items);
  }

  // The number of items (synchronous).
  [[nodiscard]] absl::StatusOr<int64_t> Size() const {
    if (absl::Status s = CheckBound(); !s.ok()) return s;
    return internal::CallSize(*endpoint_, id_);
  }

  // The item at `index`; negative indexes count from the end, as in Python.
  // `kOutOfRange` past either end.
  [[nodiscard]] absl::StatusOr<T> Get(int64_t index) const {
    if (absl::Status s = CheckBound(); !s.ok()) return s;
    absl::StatusOr<std::string> item =
        internal::CallGet(*endpoint_, id_, index);
    if (!item.ok()) return item.status();
    return DecodeValue<T>(*item);
  }

  // A copy of the whole list (synchronous).
  [[nodiscard]] absl::StatusOr<std::vector<T>> Snapshot() const {
    if (absl::Status s = CheckBound(); !s.ok()) return s;
    absl::StatusOr<std::vector<std::string>> items =
        internal::CallSnapshot(*endpoint_, id_);
    if (!items.ok()) return items.status();
    std::vector<T> values;
    values.reserve(items->size());
    for (const std::string& item : *items) {
      absl::StatusOr<T> v = DecodeValue<T>(item);
      if (!v.ok()) return v.status();
      values.push_back(*std::move(v));
    }
    return values;
  }

 private:
  friend class Manager;
  friend struct Codec<ListProxy<T>>;
  ListProxy(std::shared_ptr<internal::ManagerEndpoint> endpoint, uint64_t id)
      : endpoint_(std::move(endpoint)), id_(id) {}

  [[nodiscard]] absl::Status CheckBound() const {
    if (endpoint_ == nullptr) {
      return absl::FailedPreconditionError(
          "ListProxy is not bound to a Manager; get one from "
          "Manager::List<T>()");
    }
    return absl::OkStatus();
  }

  std::shared_ptr<internal::ManagerEndpoint> endpoint_;
  uint64_t id_ = 0;
};

template <typename T>
struct Codec<ListProxy<T>> {
  static void Encode(const ListProxy<T>& proxy, ByteWriter& out) {
    internal::EncodeEndpoint(proxy.endpoint_.get(), out);
    out.PutVarint(proxy.id_);
  }
  [[nodiscard]] static absl::StatusOr<ListProxy<T>> Decode(ByteReader& in) {
    absl::StatusOr<std::shared_ptr<internal::ManagerEndpoint>> endpoint =
        internal::DecodeEndpoint(in);
    if (!endpoint.ok()) return endpoint.status();
    absl::StatusOr<uint64_t> id = in.GetVarint();
    if (!id.ok()) return id.status();
    return ListProxy<T>(*std::move(endpoint), *id);
  }
};

// Manager
//
// Owns one running Manager server. Move-only. The destructor shuts the
// server down (as Shutdown, ignoring errors).
class Manager {
 public:
  Manager(Manager&&) noexcept;
  Manager& operator=(Manager&&) noexcept;
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;
  ~Manager();

  // A new, empty shared list of T.
  // Errors: `kFailedPrecondition` after Shutdown; `kUnavailable` when the
  // server is gone.
  template <HasCodec T>
  [[nodiscard]] absl::StatusOr<ListProxy<T>> List() {
    absl::StatusOr<std::shared_ptr<internal::ManagerEndpoint>> endpoint =
        Endpoint();
    if (!endpoint.ok()) return endpoint.status();
    absl::StatusOr<uint64_t> id = internal::CallCreateList(**endpoint);
    if (!id.ok()) return id.status();
    return ListProxy<T>(*std::move(endpoint), *id);
  }

  // A new, empty shared dict from K to V (keys compared by their Codec
  // bytes: api/manager_dict.h). Errors as List.
  template <HasCodec K, HasCodec V>
  [[nodiscard]] absl::StatusOr<DictProxy<K, V>> Dict() {
    absl::StatusOr<internal::ProxyHandle> handle =
        Create(internal::Op::kCreateDict);
    if (!handle.ok()) return handle.status();
    return DictProxy<K, V>(*std::move(handle));
  }

  // A new, empty shared FIFO queue of T holding at most `maxsize` items (0
  // or less: no bound). Errors as List.
  template <HasCodec T>
  [[nodiscard]] absl::StatusOr<QueueProxy<T>> Queue(int64_t maxsize = 0) {
    ByteWriter fields;
    fields.PutVarint(maxsize > 0 ? static_cast<uint64_t>(maxsize) : 0);
    absl::StatusOr<internal::ProxyHandle> handle =
        Create(internal::Op::kCreateQueue, fields.data());
    if (!handle.ok()) return handle.status();
    return QueueProxy<T>(*std::move(handle));
  }

  // A new, unlocked shared lock (api/manager_sync.h). Errors as List.
  [[nodiscard]] absl::StatusOr<LockProxy> Lock();

  // A new shared event, not set (api/manager_sync.h). Errors as List.
  [[nodiscard]] absl::StatusOr<EventProxy> Event();

  // A new shared value of T, holding `initial`. `kResourceExhausted` when
  // `initial` exceeds one frame; other errors as List.
  template <HasCodec T>
  [[nodiscard]] absl::StatusOr<ValueProxy<T>> Value(const T& initial = T()) {
    ByteWriter fields;
    fields.PutBytes(EncodeValue(initial));
    absl::StatusOr<internal::ProxyHandle> handle =
        Create(internal::Op::kCreateValue, fields.data());
    if (!handle.ok()) return handle.status();
    return ValueProxy<T>(*std::move(handle));
  }

  // Flushes this process's pending writes, stops the server, reaps it and
  // releases its address. Proxies then fail with `kFailedPrecondition` in
  // this process and `kUnavailable` elsewhere. Idempotent. Errors: the
  // server's exit when it did not stop cleanly (it is still reaped).
  [[nodiscard]] absl::Status Shutdown();

  // The server's pid; std::nullopt after Shutdown.
  std::optional<int64_t> pid() const;
  // Where the server listens (backend-specific, printable).
  std::string address() const;

 private:
  friend class Context;
  explicit Manager(std::shared_ptr<internal::ManagerCore> core);
  [[nodiscard]] absl::StatusOr<std::shared_ptr<internal::ManagerEndpoint>>
  Endpoint() const;
  [[nodiscard]] absl::StatusOr<internal::ProxyHandle> Create(
      internal::Op op, absl::string_view fields = {}) const;

  std::shared_ptr<internal::ManagerCore> core_;
};

}  // namespace mproc

#endif  // MPROC_API_MANAGER_H_
