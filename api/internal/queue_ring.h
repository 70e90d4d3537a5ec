// -----------------------------------------------------------------------------
// File: api/internal/queue_ring.h
// -----------------------------------------------------------------------------
//
// Internal: the pure ring logic behind Queue<T> (api/internal/queue_core.h),
// with no locking and no OS objects, so that it can be tested alone.
//
// The ring is `capacity` bytes (a multiple of kRingAlign) holding records:
// a 4-byte length, the item's bytes, padding to kRingAlign. A record may wrap
// around the end of the ring (its header never does: records start at
// multiples of kRingAlign and the capacity is one). Two marks say where the
// records are: `head` (the oldest record; moved by a consumer) and `tail`
// (where the next record goes; moved by a producer). Each mark is one 64-bit
// word: the byte offset in the low 32 bits and a sequence number of records
// (mod 2^32) in the high 32 bits, so that one store moves an offset and its
// count together, and a process that dies between two stores cannot leave
// them disagreeing. Records held: tail.seq - head.seq (mod 2^32); the bytes
// they use: the offsets' distance, or the whole ring when the offsets meet
// with records held.

#ifndef MPROC_API_INTERNAL_QUEUE_RING_H_
#define MPROC_API_INTERNAL_QUEUE_RING_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gsl/gsl"

namespace mproc::internal {

inline constexpr uint64_t kRingAlign = 4;
inline constexpr uint64_t kRingHeaderBytes = 4;
// The largest ring: offsets must fit in 32 bits, and the records in the
// ring (each at least kRingHeaderBytes) in a 32-bit count.
inline constexpr uint64_t kMaxRingBytes = uint64_t{1} << 30;

// A ring position: an offset and the sequence number of the record there.
struct RingMark {
  uint32_t offset = 0;
  uint32_t seq = 0;

  static constexpr RingMark Unpack(uint64_t word) {
    return RingMark{static_cast<uint32_t>(word & 0xffff'ffffu),
                    static_cast<uint32_t>(word >> 32)};
  }
  constexpr uint64_t Pack() const {
    return (uint64_t{seq} << 32) | uint64_t{offset};
  }
  friend constexpr bool operator==(RingMark, RingMark) = default;
};

// The ring bytes a record of an item of `item_bytes` bytes takes.
constexpr uint64_t RecordBytes(uint64_t item_bytes) {
  return (kRingHeaderBytes + item_bytes + kRingAlign - 1) / kRingAlign *
         kRingAlign;
}

// Records between `head` and `tail`.
constexpr uint32_t RecordCount(RingMark head, RingMark tail) {
  return tail.seq - head.seq;
}

// Ring logic over `bytes` (a span whose size is the capacity: a positive
// multiple of kRingAlign, at most kMaxRingBytes). Not thread-safe: the caller
// holds the queue's lock.
class RingView {
 public:
  explicit RingView(gsl::span<std::byte> bytes) : bytes_(bytes) {
    Expects(!bytes.empty() && bytes.size() % kRingAlign == 0 &&
            bytes.size() <= kMaxRingBytes);
  }

  uint64_t capacity() const { return bytes_.size(); }

  // Bytes the records between `head` and `tail` use.
  uint64_t Used(RingMark head, RingMark tail) const {
    if (RecordCount(head, tail) == 0) return 0;
    const uint64_t distance =
        (uint64_t{tail.offset} + capacity() - head.offset) % capacity();
    return distance == 0 ? capacity() : distance;
  }
  uint64_t Free(RingMark head, RingMark tail) const {
    return capacity() - Used(head, tail);
  }

  // Writes `item`'s record at `tail` and returns the mark after it (which the
  // caller publishes). Expects Free(head, tail) >= RecordBytes(item.size()).
  RingMark Write(RingMark tail, absl::string_view item) const {
    const uint32_t length = gsl::narrow<uint32_t>(item.size());
    std::memcpy(bytes_.data() + tail.offset, &length, sizeof(length));
    CopyIn(Advance(tail.offset, kRingHeaderBytes),
           gsl::as_bytes(gsl::span<const char>(item.data(), item.size())));
    return RingMark{Advance(tail.offset, RecordBytes(item.size())),
                    tail.seq + 1};
  }

  // Copies the record at `head` into `out` and returns the mark after it
  // (which the caller publishes). Expects RecordCount(head, tail) > 0.
  // kDataLoss when the record's length does not fit in the used bytes (the
  // ring was overwritten: never, unless shared memory was corrupted).
  [[nodiscard]] absl::StatusOr<RingMark> Read(RingMark head, RingMark tail,
                                              std::string& out) const {
    Expects(RecordCount(head, tail) > 0);
    uint32_t length = 0;
    std::memcpy(&length, bytes_.data() + head.offset, sizeof(length));
    if (RecordBytes(length) > Used(head, tail)) {
      return absl::DataLossError(absl::StrCat(
          "queue ring corrupted: a record of ", length, " bytes at offset ",
          head.offset, " where ", Used(head, tail),
          " bytes are in use; the queue cannot be used any more"));
    }
    out.resize(length);
    CopyOut(Advance(head.offset, kRingHeaderBytes),
            gsl::as_writable_bytes(gsl::span<char>(out.data(), out.size())));
    return RingMark{Advance(head.offset, RecordBytes(length)), head.seq + 1};
  }

 private:
  uint32_t Advance(uint32_t offset, uint64_t by) const {
    return static_cast<uint32_t>((offset + by) % capacity());
  }
  void CopyIn(uint32_t offset, gsl::span<const std::byte> from) const {
    if (from.empty()) return;
    const size_t first = std::min<size_t>(from.size(), capacity() - offset);
    std::memcpy(bytes_.data() + offset, from.data(), first);
    std::memcpy(bytes_.data(), from.data() + first, from.size() - first);
  }
  void CopyOut(uint32_t offset, gsl::span<std::byte> to) const {
    if (to.empty()) return;
    const size_t first = std::min<size_t>(to.size(), capacity() - offset);
    std::memcpy(to.data(), bytes_.data() + offset, first);
    std::memcpy(to.data() + first, bytes_.data(), to.size() - first);
  }

  gsl::span<std::byte> bytes_;
};

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_QUEUE_RING_H_
