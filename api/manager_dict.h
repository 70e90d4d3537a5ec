// -----------------------------------------------------------------------------
// File: api/manager_dict.h
// -----------------------------------------------------------------------------
//
// DictProxy<K, V>: a dict held by a Manager (api/manager.h), as CPython's
// SyncManager.dict(). Get one from Manager::Dict<K, V>().
//
// Keys are compared by their Codec bytes: two keys are the same key when
// they encode to the same bytes. Every Codec mproc has encodes equal values
// equally (a K with a Codec of its own must do the same; a double's 0.0 and
// -0.0, or two NaNs of different bits, are different keys).

#ifndef MPROC_API_MANAGER_DICT_H_
#define MPROC_API_MANAGER_DICT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/codec.h"
#include "api/internal/manager_proxy.h"

namespace mproc {

class Manager;

// DictProxy<K, V>
//
// A handle on one dict of a Manager. Copyable and cheap; a target argument,
// and a message (it has a Codec: send it through a Pipe, a Manager queue or
// another proxy to a process already running). Thread-safe. Errors of every
// call as the Manager's proxies (api/manager.h), and those listed.
template <HasCodec K, HasCodec V>
class DictProxy {
 public:
  // An unbound proxy: every call returns `kFailedPrecondition`.
  DictProxy() = default;

  // Maps `key` to `value`, replacing any earlier value (pipelined: returns
  // at once; an error it meets is returned by the caller's next synchronous
  // call).
  [[nodiscard]] absl::Status Set(const K& key, const V& value) const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    return handle_.Post(internal::Op::kDictSet, KeyValue(key, value));
  }

  // Set, waiting until the server has applied it (and every earlier write).
  [[nodiscard]] absl::Status SetSync(const K& key, const V& value) const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    return handle_.Call(internal::Op::kDictSetSync, KeyValue(key, value))
        .status();
  }

  // The value of `key`. `kNotFound` when the dict has no such key.
  [[nodiscard]] absl::StatusOr<V> Get(const K& key) const {
    absl::StatusOr<std::optional<V>> found = Find(key);
    if (!found.ok()) return found.status();
    if (!found->has_value()) {
      return absl::NotFoundError(
          "no such key in the Manager dict; check Contains, or use GetOr");
    }
    return **std::move(found);
  }

  // The value of `key`, or `otherwise` when the dict has no such key.
  [[nodiscard]] absl::StatusOr<V> GetOr(const K& key, V otherwise) const {
    absl::StatusOr<std::optional<V>> found = Find(key);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return otherwise;
    return **std::move(found);
  }

  // Removes `key` and returns its value. `kNotFound` when absent.
  [[nodiscard]] absl::StatusOr<V> Pop(const K& key) const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    absl::StatusOr<std::string> body =
        handle_.Call(internal::Op::kDictPop, KeyField(key));
    if (!body.ok()) return body.status();
    absl::StatusOr<std::string> item = internal::ReadItem(*body);
    if (!item.ok()) return item.status();
    return DecodeValue<V>(*item);
  }

  // Removes `key`. `kNotFound` when absent.
  [[nodiscard]] absl::Status Erase(const K& key) const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    return handle_.Call(internal::Op::kDictErase, KeyField(key)).status();
  }

  // True when the dict has `key`.
  [[nodiscard]] absl::StatusOr<bool> Contains(const K& key) const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    absl::StatusOr<std::string> body =
        handle_.Call(internal::Op::kDictContains, KeyField(key));
    if (!body.ok()) return body.status();
    return internal::ReadBool(*body);
  }

  // The number of keys.
  [[nodiscard]] absl::StatusOr<int64_t> Size() const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    absl::StatusOr<std::string> body = handle_.Call(internal::Op::kDictSize);
    if (!body.ok()) return body.status();
    return internal::ReadSize(*body);
  }

  // Every key, in no particular order (a snapshot). `kResourceExhausted`
  // when they exceed one reply (64 MiB).
  [[nodiscard]] absl::StatusOr<std::vector<K>> Keys() const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    absl::StatusOr<std::string> body = handle_.Call(internal::Op::kDictKeys);
    if (!body.ok()) return body.status();
    absl::StatusOr<std::vector<std::string>> items =
        internal::ReadItems(*body, 1);
    if (!items.ok()) return items.status();
    std::vector<K> keys;
    keys.reserve(items->size());
    for (const std::string& item : *items) {
      absl::StatusOr<K> key = DecodeValue<K>(item);
      if (!key.ok()) return key.status();
      keys.push_back(*std::move(key));
    }
    return keys;
  }

  // Every (key, value), in no particular order (a snapshot).
  // `kResourceExhausted` when they exceed one reply (64 MiB).
  [[nodiscard]] absl::StatusOr<std::vector<std::pair<K, V>>> Items() const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    absl::StatusOr<std::string> body = handle_.Call(internal::Op::kDictItems);
    if (!body.ok()) return body.status();
    absl::StatusOr<std::vector<std::string>> items =
        internal::ReadItems(*body, 2);
    if (!items.ok()) return items.status();
    std::vector<std::pair<K, V>> pairs;
    pairs.reserve(items->size() / 2);
    for (size_t i = 0; i + 1 < items->size(); i += 2) {
      absl::StatusOr<K> key = DecodeValue<K>((*items)[i]);
      if (!key.ok()) return key.status();
      absl::StatusOr<V> value = DecodeValue<V>((*items)[i + 1]);
      if (!value.ok()) return value.status();
      pairs.emplace_back(*std::move(key), *std::move(value));
    }
    return pairs;
  }

  // Removes every key.
  [[nodiscard]] absl::Status Clear() const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    return handle_.Call(internal::Op::kDictClear).status();
  }

 private:
  friend class Manager;
  friend struct Codec<DictProxy<K, V>>;
  explicit DictProxy(internal::ProxyHandle handle)
      : handle_(std::move(handle)) {}

  [[nodiscard]] absl::Status Bound() const {
    return handle_.CheckBound("DictProxy", "Dict<K, V>()");
  }
  static std::string KeyField(const K& key) {
    ByteWriter out;
    out.PutBytes(EncodeValue(key));
    return out.Release();
  }
  static std::string KeyValue(const K& key, const V& value) {
    ByteWriter out;
    out.PutBytes(EncodeValue(key));
    out.PutBytes(EncodeValue(value));
    return out.Release();
  }
  [[nodiscard]] absl::StatusOr<std::optional<V>> Find(const K& key) const {
    if (absl::Status s = Bound(); !s.ok()) return s;
    absl::StatusOr<std::string> body =
        handle_.Call(internal::Op::kDictGet, KeyField(key));
    if (!body.ok()) return body.status();
    ByteReader in(*body);
    absl::StatusOr<bool> found = in.GetBool();
    if (!found.ok()) return found.status();
    if (!*found) return std::optional<V>();
    absl::StatusOr<absl::string_view> item = in.GetBytes();
    if (!item.ok()) return item.status();
    absl::StatusOr<V> value = DecodeValue<V>(*item);
    if (!value.ok()) return value.status();
    return std::optional<V>(*std::move(value));
  }

  internal::ProxyHandle handle_;
};

template <typename K, typename V>
struct Codec<DictProxy<K, V>> {
  static void Encode(const DictProxy<K, V>& proxy, ByteWriter& out) {
    proxy.handle_.Encode(out);
  }
  [[nodiscard]] static absl::StatusOr<DictProxy<K, V>> Decode(ByteReader& in) {
    absl::StatusOr<internal::ProxyHandle> handle =
        internal::ProxyHandle::Decode(in);
    if (!handle.ok()) return handle.status();
    return DictProxy<K, V>(*std::move(handle));
  }
};

}  // namespace mproc

#endif  // MPROC_API_MANAGER_DICT_H_
