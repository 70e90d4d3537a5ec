// -----------------------------------------------------------------------------
// File: api/manager_value.h
// -----------------------------------------------------------------------------
//
// ValueProxy<T>: one value held by a Manager (api/manager.h), as CPython's
// SyncManager.Value(). Get one from Manager::Value<T>(initial). A
// read-modify-write (Get, then Set) is not atomic: guard it with a
// Manager Lock (LockProxy).

#ifndef MPROC_API_MANAGER_VALUE_H_
#define MPROC_API_MANAGER_VALUE_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/codec.h"
#include "api/internal/manager_proxy.h"

namespace mproc {

class Manager;

// ValueProxy<T>
//
// A handle on one value of a Manager. Copyable and cheap; a target argument
// and a message (it has a Codec). Thread-safe. Errors of every call as the
// Manager's proxies (api/manager.h).
template <HasCodec T>
class ValueProxy {
 public:
  // An unbound proxy: every call returns `kFailedPrecondition`.
  ValueProxy() = default;

  // The value now. `kInvalidArgument` when it is not a T.
  [[nodiscard]] absl::StatusOr<T> Get() const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    absl::StatusOr<std::string> body = handle_.Call(internal::Op::kValueGet);
    if (!body.ok()) return body.status();
    absl::StatusOr<std::string> item = internal::ReadItem(*body);
    if (!item.ok()) return item.status();
    return DecodeValue<T>(*item);
  }

  // Replaces the value, waiting until the server has applied it.
  [[nodiscard]] absl::Status Set(const T& value) const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    return handle_.Call(internal::Op::kValueSetSync, Field(value)).status();
  }

  // Replaces the value (pipelined: returns at once; an error it meets is
  // returned by the caller's next synchronous call).
  [[nodiscard]] absl::Status SetPipelined(const T& value) const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    return handle_.Post(internal::Op::kValueSet, Field(value));
  }

 private:
  friend class Manager;
  friend struct Codec<ValueProxy<T>>;
  explicit ValueProxy(internal::ProxyHandle handle)
      : handle_(std::move(handle)) {}
  [[nodiscard]] absl::Status Bound() const {
    return handle_.CheckBound("ValueProxy", "Value<T>()");
  }
  static std::string Field(const T& value) {
    ByteWriter out;
    out.PutBytes(EncodeValue(value));
    return out.Release();
  }

  internal::ProxyHandle handle_;
};

template <typename T>
struct Codec<ValueProxy<T>> {
  static void Encode(const ValueProxy<T>& proxy, ByteWriter& out) {
    proxy.handle_.Encode(out);
  }
  [[nodiscard]] static absl::StatusOr<ValueProxy<T>> Decode(ByteReader& in) {
    absl::StatusOr<internal::ProxyHandle> handle =
        internal::ProxyHandle::Decode(in);
    if (!handle.ok()) return handle.status();
    return ValueProxy<T>(*std::move(handle));
  }
};

}  // namespace mproc

#endif  // MPROC_API_MANAGER_VALUE_H_
