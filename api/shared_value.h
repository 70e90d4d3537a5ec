// -----------------------------------------------------------------------------
// File: api/shared_value.h
// -----------------------------------------------------------------------------
//
// Values and arrays in shared memory, as CPython's multiprocessing.Value,
// Array, RawValue and RawArray, for trivially copyable T:
//
//   absl::StatusOr<mproc::Value<int64_t>> total =
//       mproc::Value<int64_t>::Create(ctx, 0);
//   // in each child:
//   (void)total->GetLock().Acquire();  *total->get() += 1;
//   (void)total->GetLock().Release();
//
// Value / Array come with an RLock (CPython's synchronized wrappers): Get
// and Set take it; for read-modify-write, hold GetLock() and use get() /
// data(). RawValue / RawArray have no lock: each element is read and written
// as one atomic (T must be lock-free as std::atomic_ref<T>, checked at
// compile time). All are copyable handles passed to children as target
// arguments; a child's writes are seen by every holder at once.

#ifndef MPROC_API_SHARED_VALUE_H_
#define MPROC_API_SHARED_VALUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "api/codec.h"
#include "api/context.h"
#include "api/internal/shared_parts.h"
#include "api/lock.h"
#include "gsl/assert"
#include "gsl/span"

namespace mproc {

template <typename T>
concept SharedElement =
    std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>;

namespace internal {

// `count` zero-filled Ts in a new shared block.
template <typename T>
[[nodiscard]] absl::StatusOr<std::shared_ptr<const SharedParts>> CreateElements(
    const Context& ctx, size_t count) {
  if (count > (size_t{1} << 40) / sizeof(T)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a shared array of ", count, " elements is too large"));
  }
  return CreateSharedParts(ctx.backend(),
                           std::max<size_t>(1, count) * sizeof(T), 0);
}

template <typename T>
[[nodiscard]] absl::StatusOr<std::shared_ptr<const SharedParts>> DecodeElements(
    ByteReader& in, size_t& count) {
  absl::StatusOr<std::shared_ptr<const SharedParts>> parts =
      DecodeSharedParts(in);
  if (!parts.ok()) return parts.status();
  absl::StatusOr<uint64_t> n = in.GetVarint();
  if (!n.ok()) return n.status();
  if (*n > (*parts)->memory->bytes().size() / sizeof(T)) {
    return absl::InvalidArgumentError(
        "malformed launch request: shared array larger than its memory");
  }
  count = static_cast<size_t>(*n);
  return parts;
}

// Reads `from` under `lock`; a dead holder's kAborted is returned (the lock is
// released either way).
template <typename T>
[[nodiscard]] absl::StatusOr<T> ReadLocked(const RLock& lock, const T* from) {
  absl::StatusOr<bool> locked = lock.Acquire();
  if (!locked.ok() && !absl::IsAborted(locked.status())) return locked.status();
  T value;
  std::memcpy(&value, from, sizeof(T));
  (void)lock.Release();
  if (!locked.ok()) return locked.status();
  return value;
}

template <typename T>
[[nodiscard]] absl::Status WriteLocked(const RLock& lock, T* to,
                                       const T& value) {
  absl::StatusOr<bool> locked = lock.Acquire();
  if (!locked.ok() && !absl::IsAborted(locked.status())) return locked.status();
  std::memcpy(to, &value, sizeof(T));
  (void)lock.Release();
  return locked.status();
}

}  // namespace internal

// Value
//
// One T in shared memory, with an RLock.
template <typename T>
class Value {
  static_assert(SharedElement<T>, "Value<T> needs a trivially copyable T");

 public:
  // A new Value holding `initial`. Errors: the backend's.
  [[nodiscard]] static absl::StatusOr<Value> Create(const Context& ctx,
                                                    T initial = T{}) {
    absl::StatusOr<RLock> lock = RLock::Create(ctx);
    if (!lock.ok()) return lock.status();
    absl::StatusOr<std::shared_ptr<const internal::SharedParts>> parts =
        internal::CreateElements<T>(ctx, 1);
    if (!parts.ok()) return parts.status();
    Value value(*std::move(lock), *std::move(parts));
    std::memcpy(value.get(), &initial, sizeof(T));
    return value;
  }

  // The value, read under the lock. kAborted when the lock's holder died
  // (the value may be half-written). Other errors: the OS's.
  [[nodiscard]] absl::StatusOr<T> Get() const {
    return internal::ReadLocked(lock_, get());
  }
  // Writes `value` under the lock. Errors as Get.
  [[nodiscard]] absl::Status Set(const T& value) const {
    return internal::WriteLocked(lock_, get(), value);
  }
  // The lock (CPython's get_lock()).
  const RLock& GetLock() const { return lock_; }
  // The shared T itself (CPython's get_obj()): use it while holding
  // GetLock().
  T* get() const { return std::launder(reinterpret_cast<T*>(parts_->base())); }

 private:
  friend struct Codec<Value>;
  Value(RLock lock, std::shared_ptr<const internal::SharedParts> parts)
      : lock_(std::move(lock)), parts_(std::move(parts)) {}
  RLock lock_;
  std::shared_ptr<const internal::SharedParts> parts_;
};

// Array
//
// A fixed number of Ts in shared memory, with an RLock.
template <typename T>
class Array {
  static_assert(SharedElement<T>, "Array<T> needs a trivially copyable T");

 public:
  // A new Array of `size` value-initialised Ts. Errors: the backend's;
  // kInvalidArgument when far too large.
  [[nodiscard]] static absl::StatusOr<Array> Create(const Context& ctx,
                                                    size_t size) {
    absl::StatusOr<RLock> lock = RLock::Create(ctx);
    if (!lock.ok()) return lock.status();
    absl::StatusOr<std::shared_ptr<const internal::SharedParts>> parts =
        internal::CreateElements<T>(ctx, size);
    if (!parts.ok()) return parts.status();
    Array array(*std::move(lock), *std::move(parts), size);
    const T zero{};
    for (T& element : array.data()) std::memcpy(&element, &zero, sizeof(T));
    return array;
  }

  size_t size() const { return size_; }
  // Element `index` under the lock; kOutOfRange past the end; else as
  // Value::Get.
  [[nodiscard]] absl::StatusOr<T> Get(size_t index) const {
    if (absl::Status s = Check(index); !s.ok()) return s;
    return internal::ReadLocked(lock_, &data()[index]);
  }
  [[nodiscard]] absl::Status Set(size_t index, const T& value) const {
    if (absl::Status s = Check(index); !s.ok()) return s;
    return internal::WriteLocked(lock_, &data()[index], value);
  }
  // Every element, copied under the lock.
  [[nodiscard]] absl::StatusOr<std::vector<T>> Snapshot() const {
    absl::StatusOr<bool> locked = lock_.Acquire();
    if (!locked.ok() && !absl::IsAborted(locked.status())) {
      return locked.status();
    }
    std::vector<T> copy(data().begin(), data().end());
    (void)lock_.Release();
    if (!locked.ok()) return locked.status();
    return copy;
  }
  const RLock& GetLock() const { return lock_; }
  // The shared elements (CPython's get_obj()): use them while holding
  // GetLock().
  gsl::span<T> data() const {
    return {std::launder(reinterpret_cast<T*>(parts_->base())), size_};
  }

 private:
  friend struct Codec<Array>;
  Array(RLock lock, std::shared_ptr<const internal::SharedParts> parts,
        size_t size)
      : lock_(std::move(lock)), parts_(std::move(parts)), size_(size) {}
  [[nodiscard]] absl::Status Check(size_t index) const {
    if (index < size_) return absl::OkStatus();
    return absl::OutOfRangeError(absl::StrCat(
        "array index ", index, " out of range (size ", size_, ")"));
  }
  RLock lock_;
  std::shared_ptr<const internal::SharedParts> parts_;
  size_t size_;
};

// RawArray
//
// A fixed number of Ts in shared memory without a lock; each element is
// loaded and stored atomically. RawValue is a RawArray of one.
template <typename T>
class RawArray {
  static_assert(SharedElement<T> && std::atomic_ref<T>::is_always_lock_free,
                "RawArray<T> needs a T that std::atomic_ref handles "
                "lock-free (a lock inside an atomic is process-local)");

 public:
  [[nodiscard]] static absl::StatusOr<RawArray> Create(const Context& ctx,
                                                       size_t size) {
    absl::StatusOr<std::shared_ptr<const internal::SharedParts>> parts =
        internal::CreateElements<T>(ctx, size);
    if (!parts.ok()) return parts.status();
    RawArray array(*std::move(parts), size);
    for (size_t i = 0; i < size; ++i) array.Store(i, T{});
    return array;
  }

  size_t size() const { return size_; }
  // Element `index` (< size(): checked with Expects semantics by the caller).
  T Load(size_t index) const { return Ref(index).load(); }
  void Store(size_t index, T value) const { Ref(index).store(value); }
  // Adds `delta` to element `index`; returns its previous value.
  T FetchAdd(size_t index, T delta) const requires std::is_integral_v<T> {
    return Ref(index).fetch_add(delta);
  }

 private:
  friend struct Codec<RawArray>;
  RawArray(std::shared_ptr<const internal::SharedParts> parts, size_t size)
      : parts_(std::move(parts)), size_(size) {}
  std::atomic_ref<T> Ref(size_t index) const {
    Expects(index < size_);
    return std::atomic_ref<T>(
        std::launder(reinterpret_cast<T*>(parts_->base()))[index]);
  }
  std::shared_ptr<const internal::SharedParts> parts_;
  size_t size_;
};

template <typename T>
class RawValue {
 public:
  [[nodiscard]] static absl::StatusOr<RawValue> Create(const Context& ctx,
                                                       T initial = T{}) {
    absl::StatusOr<RawArray<T>> array = RawArray<T>::Create(ctx, 1);
    if (!array.ok()) return array.status();
    array->Store(0, initial);
    return RawValue(*std::move(array));
  }
  T Load() const { return array_.Load(0); }
  void Store(T value) const { array_.Store(0, value); }
  T FetchAdd(T delta) const requires std::is_integral_v<T> {
    return array_.FetchAdd(0, delta);
  }

 private:
  friend struct Codec<RawValue>;
  explicit RawValue(RawArray<T> array) : array_(std::move(array)) {}
  RawArray<T> array_;
};

template <typename T>
struct Codec<Value<T>> {
  static void Encode(const Value<T>& v, ByteWriter& out) {
    Codec<RLock>::Encode(v.lock_, out);
    internal::EncodeSharedParts(*v.parts_, out);
    out.PutVarint(1);
  }
  [[nodiscard]] static absl::StatusOr<Value<T>> Decode(ByteReader& in) {
    absl::StatusOr<RLock> lock = Codec<RLock>::Decode(in);
    if (!lock.ok()) return lock.status();
    size_t count = 0;
    auto parts = internal::DecodeElements<T>(in, count);
    if (!parts.ok()) return parts.status();
    if (count != 1) {
      return absl::InvalidArgumentError("malformed launch request: a Value");
    }
    return Value<T>(*std::move(lock), *std::move(parts));
  }
};

template <typename T>
struct Codec<Array<T>> {
  static void Encode(const Array<T>& a, ByteWriter& out) {
    Codec<RLock>::Encode(a.lock_, out);
    internal::EncodeSharedParts(*a.parts_, out);
    out.PutVarint(a.size_);
  }
  [[nodiscard]] static absl::StatusOr<Array<T>> Decode(ByteReader& in) {
    absl::StatusOr<RLock> lock = Codec<RLock>::Decode(in);
    if (!lock.ok()) return lock.status();
    size_t count = 0;
    auto parts = internal::DecodeElements<T>(in, count);
    if (!parts.ok()) return parts.status();
    return Array<T>(*std::move(lock), *std::move(parts), count);
  }
};

template <typename T>
struct Codec<RawArray<T>> {
  static void Encode(const RawArray<T>& a, ByteWriter& out) {
    internal::EncodeSharedParts(*a.parts_, out);
    out.PutVarint(a.size_);
  }
  [[nodiscard]] static absl::StatusOr<RawArray<T>> Decode(ByteReader& in) {
    size_t count = 0;
    auto parts = internal::DecodeElements<T>(in, count);
    if (!parts.ok()) return parts.status();
    return RawArray<T>(*std::move(parts), count);
  }
};

template <typename T>
struct Codec<RawValue<T>> {
  static void Encode(const RawValue<T>& v, ByteWriter& out) {
    Codec<RawArray<T>>::Encode(v.array_, out);
  }
  [[nodiscard]] static absl::StatusOr<RawValue<T>> Decode(ByteReader& in) {
    absl::StatusOr<RawArray<T>> array = Codec<RawArray<T>>::Decode(in);
    if (!array.ok()) return array.status();
    if (array->size() != 1) {
      return absl::InvalidArgumentError("malformed launch request: a RawValue");
    }
    return RawValue<T>(*std::move(array));
  }
};

}  // namespace mproc

#endif  // MPROC_API_SHARED_VALUE_H_
