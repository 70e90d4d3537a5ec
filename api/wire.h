// -----------------------------------------------------------------------------
// File: api/wire.h
// -----------------------------------------------------------------------------
//
// The byte format every mproc message uses: target arguments, launch requests
// and Manager frames. Little-endian fixed-width integers, LEB128 varints
// (zig-zag for signed values) and length-prefixed byte strings.
//
// `ByteWriter` appends to a std::string. `ByteReader` reads from a view and
// never reads past its end: a short or malformed input gives
// `kInvalidArgument`, never a crash.

#ifndef MPROC_API_WIRE_H_
#define MPROC_API_WIRE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mproc {

// Appends encoded values to an owned buffer.
class ByteWriter {
 public:
  ByteWriter() = default;

  void PutVarint(uint64_t value);
  void PutSignedVarint(int64_t value);  // zig-zag
  void PutFixed32(uint32_t value);
  void PutFixed64(uint64_t value);
  void PutDouble(double value);
  void PutBool(bool value);
  // A varint length, then the bytes.
  void PutBytes(absl::string_view bytes);

  const std::string& data() const { return data_; }
  std::string Release() { return std::move(data_); }
  // Empties the buffer and keeps its capacity (a writer reused per item).
  void Clear() { data_.clear(); }

 private:
  std::string data_;
};

// Reads values written by ByteWriter, in the same order.
// Every getter returns `kInvalidArgument` when the input ends early or holds
// a value out of range; the reader's position is then unspecified.
class ByteReader {
 public:
  explicit ByteReader(absl::string_view data) : data_(data) {}

  [[nodiscard]] absl::StatusOr<uint64_t> GetVarint();
  [[nodiscard]] absl::StatusOr<int64_t> GetSignedVarint();
  [[nodiscard]] absl::StatusOr<uint32_t> GetFixed32();
  [[nodiscard]] absl::StatusOr<uint64_t> GetFixed64();
  [[nodiscard]] absl::StatusOr<double> GetDouble();
  [[nodiscard]] absl::StatusOr<bool> GetBool();
  // A view into the reader's input; valid while that input is.
  [[nodiscard]] absl::StatusOr<absl::string_view> GetBytes();

  // A count of elements that follow, each at least `min_element_bytes` long:
  // rejects counts that the remaining input cannot hold, so a corrupt count
  // never drives a huge allocation.
  [[nodiscard]] absl::StatusOr<uint64_t> GetCount(size_t min_element_bytes);

  size_t remaining() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  // OK when the input is fully consumed; `kInvalidArgument` otherwise.
  [[nodiscard]] absl::Status ExpectEnd() const;

 private:
  absl::string_view data_;
};

}  // namespace mproc

#endif  // MPROC_API_WIRE_H_
