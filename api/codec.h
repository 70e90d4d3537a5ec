// -----------------------------------------------------------------------------
// File: api/codec.h
// -----------------------------------------------------------------------------
//
// Argument codecs: how a target's arguments travel to a child that does not
// share the parent's memory (posix:spawn, windows). mproc ships codecs for
// integers, double, bool, std::string, std::vector<T> and Manager proxies;
// add one for your own type by specialising `mproc::Codec`:
//
//   template <>
//   struct mproc::Codec<Point> {
//     static void Encode(const Point& p, ByteWriter& out) { ... }
//     static absl::StatusOr<Point> Decode(ByteReader& in) { ... }
//   };
//
// Every encoding is at least one byte long. `Decode` returns
// `kInvalidArgument` on malformed input and never crashes.

#ifndef MPROC_API_CODEC_H_
#define MPROC_API_CODEC_H_

#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "api/wire.h"

namespace mproc {

// The primary template has no members: a type without a specialisation has
// no codec (see `HasCodec`).
template <typename T, typename Enable = void>
struct Codec;

// True when `T` can be encoded and decoded.
template <typename T>
concept HasCodec = requires(const T& value, ByteWriter& out, ByteReader& in) {
  Codec<T>::Encode(value, out);
  { Codec<T>::Decode(in) } -> std::same_as<absl::StatusOr<T>>;
};

template <>
struct Codec<bool> {
  static void Encode(bool value, ByteWriter& out) { out.PutBool(value); }
  [[nodiscard]] static absl::StatusOr<bool> Decode(ByteReader& in) {
    return in.GetBool();
  }
};

// Integers travel as 64-bit varints and are range-checked on the way in.
template <typename T>
struct Codec<
    T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static void Encode(T value, ByteWriter& out) {
    if constexpr (std::is_signed_v<T>) {
      out.PutSignedVarint(value);
    } else {
      out.PutVarint(value);
    }
  }
  [[nodiscard]] static absl::StatusOr<T> Decode(ByteReader& in) {
    if constexpr (std::is_signed_v<T>) {
      absl::StatusOr<int64_t> v = in.GetSignedVarint();
      if (!v.ok()) return v.status();
      if (*v < std::numeric_limits<T>::min() ||
          *v > std::numeric_limits<T>::max()) {
        return OutOfRange(*v);
      }
      return static_cast<T>(*v);
    } else {
      absl::StatusOr<uint64_t> v = in.GetVarint();
      if (!v.ok()) return v.status();
      if (*v > std::numeric_limits<T>::max()) return OutOfRange(*v);
      return static_cast<T>(*v);
    }
  }

 private:
  template <typename V>
  [[nodiscard]] static absl::Status OutOfRange(V v) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed mproc message: integer ", v,
                     " does not fit the parameter type"));
  }
};

template <>
struct Codec<double> {
  static void Encode(double value, ByteWriter& out) { out.PutDouble(value); }
  [[nodiscard]] static absl::StatusOr<double> Decode(ByteReader& in) {
    return in.GetDouble();
  }
};

template <>
struct Codec<std::string> {
  static void Encode(const std::string& value, ByteWriter& out) {
    out.PutBytes(value);
  }
  [[nodiscard]] static absl::StatusOr<std::string> Decode(ByteReader& in) {
    absl::StatusOr<absl::string_view> bytes = in.GetBytes();
    if (!bytes.ok()) return bytes.status();
    return std::string(*bytes);
  }
};

template <typename T>
struct Codec<std::vector<T>, std::enable_if_t<HasCodec<T>>> {
  static void Encode(const std::vector<T>& values, ByteWriter& out) {
    out.PutVarint(values.size());
    for (const T& v : values) Codec<T>::Encode(v, out);
  }
  [[nodiscard]] static absl::StatusOr<std::vector<T>> Decode(ByteReader& in) {
    absl::StatusOr<uint64_t> count = in.GetCount(1);
    if (!count.ok()) return count.status();
    std::vector<T> values;
    values.reserve(*count);
    for (uint64_t i = 0; i < *count; ++i) {
      absl::StatusOr<T> v = Codec<T>::Decode(in);
      if (!v.ok()) return v.status();
      values.push_back(*std::move(v));
    }
    return values;
  }
};

// Encodes one value into a fresh buffer.
template <HasCodec T>
std::string EncodeValue(const T& value) {
  ByteWriter out;
  Codec<T>::Encode(value, out);
  return out.Release();
}

// Decodes a buffer that holds exactly one `T`.
template <HasCodec T>
[[nodiscard]] absl::StatusOr<T> DecodeValue(absl::string_view bytes) {
  ByteReader in(bytes);
  absl::StatusOr<T> value = Codec<T>::Decode(in);
  if (!value.ok()) return value.status();
  if (absl::Status end = in.ExpectEnd(); !end.ok()) return end;
  return value;
}

}  // namespace mproc

#endif  // MPROC_API_CODEC_H_
