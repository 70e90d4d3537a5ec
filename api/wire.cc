#include "api/wire.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace mproc {
namespace {

absl::Status Truncated(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed mproc message: truncated ", what));
}

}  // namespace

void ByteWriter::PutVarint(uint64_t value) {
  while (value >= 0x80) {
    data_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  data_.push_back(static_cast<char>(value));
}

void ByteWriter::PutSignedVarint(int64_t value) {
  PutVarint((static_cast<uint64_t>(value) << 1) ^
            static_cast<uint64_t>(value >> 63));
}

void ByteWriter::PutFixed32(uint32_t value) {
  for (int i = 0; i < 4; ++i)
    data_.push_back(static_cast<char>(value >> (8 * i)));
}

void ByteWriter::PutFixed64(uint64_t value) {
  for (int i = 0; i < 8; ++i)
    data_.push_back(static_cast<char>(value >> (8 * i)));
}

void ByteWriter::PutDouble(double value) {
  PutFixed64(std::bit_cast<uint64_t>(value));
}

void ByteWriter::PutBool(bool value) { data_.push_back(value ? 1 : 0); }

void ByteWriter::PutBytes(absl::string_view bytes) {
  PutVarint(bytes.size());
  data_.append(bytes.data(), bytes.size());
}

absl::StatusOr<uint64_t> ByteReader::GetVarint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (data_.empty()) return Truncated("varint");
    const auto byte = static_cast<uint8_t>(data_.front());
    data_.remove_prefix(1);
    if (shift == 63 && byte > 1) {
      return absl::InvalidArgumentError(
          "malformed mproc message: varint longer than 64 bits");
    }
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return absl::InvalidArgumentError(
      "malformed mproc message: varint longer than 64 bits");
}

absl::StatusOr<int64_t> ByteReader::GetSignedVarint() {
  absl::StatusOr<uint64_t> raw = GetVarint();
  if (!raw.ok()) return raw.status();
  return static_cast<int64_t>((*raw >> 1) ^ (~(*raw & 1) + 1));
}

absl::StatusOr<uint32_t> ByteReader::GetFixed32() {
  if (data_.size() < 4) return Truncated("32-bit integer");
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>(data_[i])) << (8 * i);
  }
  data_.remove_prefix(4);
  return value;
}

absl::StatusOr<uint64_t> ByteReader::GetFixed64() {
  if (data_.size() < 8) return Truncated("64-bit integer");
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(data_[i])) << (8 * i);
  }
  data_.remove_prefix(8);
  return value;
}

absl::StatusOr<double> ByteReader::GetDouble() {
  absl::StatusOr<uint64_t> bits = GetFixed64();
  if (!bits.ok()) return bits.status();
  return std::bit_cast<double>(*bits);
}

absl::StatusOr<bool> ByteReader::GetBool() {
  if (data_.empty()) return Truncated("bool");
  const char byte = data_.front();
  data_.remove_prefix(1);
  if (byte != 0 && byte != 1) {
    return absl::InvalidArgumentError("malformed mproc message: bad bool");
  }
  return byte == 1;
}

absl::StatusOr<absl::string_view> ByteReader::GetBytes() {
  absl::StatusOr<uint64_t> size = GetVarint();
  if (!size.ok()) return size.status();
  if (*size > data_.size()) return Truncated("byte string");
  absl::string_view bytes = data_.substr(0, *size);
  data_.remove_prefix(*size);
  return bytes;
}

absl::StatusOr<uint64_t> ByteReader::GetCount(size_t min_element_bytes) {
  absl::StatusOr<uint64_t> count = GetVarint();
  if (!count.ok()) return count.status();
  const size_t per = min_element_bytes == 0 ? 1 : min_element_bytes;
  if (*count > data_.size() / per) return Truncated("sequence");
  return count;
}

absl::Status ByteReader::ExpectEnd() const {
  if (data_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "malformed mproc message: ", data_.size(), " unexpected trailing bytes"));
}

}  // namespace mproc
