// The argument codecs on arbitrary bytes, with round trips.
#include <bit>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/codec.h"
#include "api/manager.h"
#include "api/target.h"
#include "tests/fuzz/harnesses.h"

namespace mproc::fuzz {
namespace {

// Equality for round trips: doubles bit for bit (NaN == NaN, -0 != +0),
// proxies by their encoding (they hold no other observable state).
template <typename T>
bool Same(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, double>) {
    return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
  } else if constexpr (requires { a.Snapshot(); }) {
    return EncodeValue(a) == EncodeValue(b);
  } else if constexpr (requires {
                         a.size();
                         a[0];
                         typename T::value_type;
                       } &&
                       !std::is_same_v<T, std::string>) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!Same<typename T::value_type>(a[i], b[i])) return false;
    }
    return true;
  } else {
    return a == b;
  }
}

template <typename T>
absl::Status RoundTrip(absl::string_view data, absl::string_view type) {
  absl::StatusOr<T> value = DecodeValue<T>(data);
  if (!value.ok()) {
    if (!absl::IsInvalidArgument(value.status()) &&
        !absl::IsNotFound(value.status())) {
      return absl::InternalError(
          absl::StrCat(type, ": decode failed with an undocumented code: ",
                       value.status().ToString()));
    }
    return absl::OkStatus();
  }
  const std::string encoded = EncodeValue(*value);
  absl::StatusOr<T> again = DecodeValue<T>(encoded);
  if (!again.ok()) {
    return absl::InternalError(absl::StrCat(
        type, ": the encoding of a decoded value does not decode: ",
        again.status().ToString()));
  }
  if (!Same(*value, *again)) {
    return absl::InternalError(absl::StrCat(type, ": decode(encode(v)) != v"));
  }
  if (EncodeValue(*again) != encoded) {
    return absl::InternalError(
        absl::StrCat(type, ": encode(decode(encode(v))) != encode(v)"));
  }
  return absl::OkStatus();
}

// A registered target whose arguments cover each codec kind. It re-encodes
// what it received through Target(), as a parent would, into `reencoded`.
std::string* reencoded = new std::string;  // never destroyed

int ConsumeArguments(int64_t number, std::string text,
                     std::vector<double> values, bool flag, uint8_t small,
                     ListProxy<std::string> list) {
  *reencoded =
      Target(&ConsumeArguments, number, text, values, flag, small, list)
          .encoded_args();
  return 0;
}
MPROC_REGISTER_TARGET_AS("mproc.fuzz.ConsumeArguments", &ConsumeArguments);

absl::Status TargetArguments(absl::string_view data) {
  reencoded->clear();
  const TargetCall call = TargetCall::FromRegistered(
      "mproc.fuzz.ConsumeArguments", std::string(data));
  absl::StatusOr<int> ran = call.Run();
  if (!ran.ok()) {
    if (!absl::IsInvalidArgument(ran.status()) &&
        !absl::IsNotFound(ran.status())) {
      return absl::InternalError(
          absl::StrCat("target arguments: undocumented decode error: ",
                       ran.status().ToString()));
    }
    return absl::OkStatus();
  }
  const std::string first = *reencoded;
  absl::StatusOr<int> again =
      TargetCall::FromRegistered("mproc.fuzz.ConsumeArguments", first).Run();
  if (!again.ok() || *again != 0) {
    return absl::InternalError(
        "target arguments: Target()'s encoding of decoded arguments does not "
        "decode");
  }
  if (*reencoded != first) {
    return absl::InternalError(
        "target arguments: encode(decode(encode(args))) != encode(args)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status FuzzCodecs(absl::string_view data) {
  if (data.empty()) return absl::OkStatus();
  const auto type = static_cast<uint8_t>(data[0]);
  data.remove_prefix(1);
  switch (type % 20) {
    case 0:
      return RoundTrip<bool>(data, "bool");
    case 1:
      return RoundTrip<int8_t>(data, "int8_t");
    case 2:
      return RoundTrip<uint8_t>(data, "uint8_t");
    case 3:
      return RoundTrip<int16_t>(data, "int16_t");
    case 4:
      return RoundTrip<uint16_t>(data, "uint16_t");
    case 5:
      return RoundTrip<int32_t>(data, "int32_t");
    case 6:
      return RoundTrip<uint32_t>(data, "uint32_t");
    case 7:
      return RoundTrip<int64_t>(data, "int64_t");
    case 8:
      return RoundTrip<uint64_t>(data, "uint64_t");
    case 9:
      return RoundTrip<double>(data, "double");
    case 10:
      return RoundTrip<std::string>(data, "string");
    case 11:
      return RoundTrip<std::vector<int64_t>>(data, "vector<int64_t>");
    case 12:
      return RoundTrip<std::vector<uint8_t>>(data, "vector<uint8_t>");
    case 13:
      return RoundTrip<std::vector<double>>(data, "vector<double>");
    case 14:
      return RoundTrip<std::vector<std::string>>(data, "vector<string>");
    case 15:
      return RoundTrip<std::vector<std::vector<int32_t>>>(
          data, "vector<vector<int32_t>>");
    case 16:
      return RoundTrip<std::vector<bool>>(data, "vector<bool>");
    case 17:
      return RoundTrip<ListProxy<int64_t>>(data, "ListProxy<int64_t>");
    case 18:
      return RoundTrip<std::vector<ListProxy<double>>>(
          data, "vector<ListProxy<double>>");
    default:
      return TargetArguments(data);
  }
}

}  // namespace mproc::fuzz
