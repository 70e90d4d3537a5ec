// -----------------------------------------------------------------------------
// File: api/manager_queue.h
// -----------------------------------------------------------------------------
//
// QueueProxy<T>: a FIFO queue held by a Manager (api/manager.h), as
// CPython's SyncManager.Queue(). Get one from Manager::Queue<T>(maxsize).
// A blocked Put or Get waits on the server, in the thread that serves the
// caller's connection; while it waits, the calling process's other calls to
// that Manager wait for it (a process has one connection to a Manager).

#ifndef MPROC_API_MANAGER_QUEUE_H_
#define MPROC_API_MANAGER_QUEUE_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/codec.h"
#include "api/internal/manager_proxy.h"

namespace mproc {

class Manager;

// QueueProxy<T>
//
// A handle on one queue of a Manager. Copyable and cheap; a target argument
// and a message (it has a Codec). Thread-safe. Errors of every call as the
// Manager's proxies (api/manager.h), and those listed.
template <HasCodec T>
class QueueProxy {
 public:
  // An unbound proxy: every call returns `kFailedPrecondition`.
  QueueProxy() = default;

  // Appends `item`, waiting up to `timeout` while the queue holds maxsize
  // items (InfiniteDuration: for ever; zero or less: not at all).
  // `kDeadlineExceeded` ("queue is full") when the timeout passes.
  [[nodiscard]] absl::Status Put(
      const T& item, absl::Duration timeout = absl::InfiniteDuration()) const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    ByteWriter fields;
    fields.PutSignedVarint(internal::WireTimeout(timeout));
    fields.PutBytes(EncodeValue(item));
    return handle_.Call(internal::Op::kQueuePut, fields.data()).status();
  }

  // Takes the oldest item, waiting up to `timeout` while the queue is empty.
  // `kDeadlineExceeded` ("queue is empty") when the timeout passes;
  // `kInvalidArgument` when the item is not a T (it is taken all the same).
  [[nodiscard]] absl::StatusOr<T> Get(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    ByteWriter fields;
    fields.PutSignedVarint(internal::WireTimeout(timeout));
    absl::StatusOr<std::string> body =
        handle_.Call(internal::Op::kQueueGet, fields.data());
    if (!body.ok()) return body.status();
    absl::StatusOr<std::string> item = internal::ReadItem(*body);
    if (!item.ok()) return item.status();
    return DecodeValue<T>(*item);
  }

  // The number of items now (others may change it at once).
  [[nodiscard]] absl::StatusOr<int64_t> QSize() const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    absl::StatusOr<std::string> body = handle_.Call(internal::Op::kQueueSize);
    if (!body.ok()) return body.status();
    return internal::ReadSize(*body);
  }

  // True when QSize() is 0.
  [[nodiscard]] absl::StatusOr<bool> Empty() const {
    absl::StatusOr<int64_t> size = QSize();
    if (!size.ok()) return size.status();
    return *size == 0;
  }

 private:
  friend class Manager;
  friend struct Codec<QueueProxy<T>>;
  explicit QueueProxy(internal::ProxyHandle handle)
      : handle_(std::move(handle)) {}
  [[nodiscard]] absl::Status Bound() const {
    return handle_.CheckBound("QueueProxy", "Queue<T>()");
  }

  internal::ProxyHandle handle_;
};

template <typename T>
struct Codec<QueueProxy<T>> {
  static void Encode(const QueueProxy<T>& proxy, ByteWriter& out) {
    proxy.handle_.Encode(out);
  }
  [[nodiscard]] static absl::StatusOr<QueueProxy<T>> Decode(ByteReader& in) {
    absl::StatusOr<internal::ProxyHandle> handle =
        internal::ProxyHandle::Decode(in);
    if (!handle.ok()) return handle.status();
    return QueueProxy<T>(*std::move(handle));
  }
};

}  // namespace mproc

#endif  // MPROC_API_MANAGER_QUEUE_H_
