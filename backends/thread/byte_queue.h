// -----------------------------------------------------------------------------
// File: backends/thread/byte_queue.h
// -----------------------------------------------------------------------------
//
// Thread backend only: the bytes written one way through an in-memory stream
// (a Manager connection, a channel end) and not read yet. Not thread-safe:
// its owner guards it with its mutex.

#ifndef MPROC_BACKENDS_THREAD_BYTE_QUEUE_H_
#define MPROC_BACKENDS_THREAD_BYTE_QUEUE_H_

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"
#include "gsl/span"

namespace mproc::thread {

class ByteQueue {
 public:
  bool empty() const { return read_offset_ == data_.size(); }

  void Append(absl::string_view bytes) {
    data_.append(bytes.data(), bytes.size());
  }

  // Moves up to `buffer.size()` of the oldest bytes into `buffer`; returns
  // how many.
  size_t TakeInto(gsl::span<char> buffer) {
    const size_t n = std::min(buffer.size(), data_.size() - read_offset_);
    std::memcpy(buffer.data(), data_.data() + read_offset_, n);
    read_offset_ += n;
    if (read_offset_ == data_.size()) {
      data_.clear();
      read_offset_ = 0;
    } else if (read_offset_ > data_.size() / 2) {
      // Amortised: what was read goes once it is over half the buffer.
      data_.erase(0, read_offset_);
      read_offset_ = 0;
    }
    return n;
  }

 private:
  std::string data_;
  size_t read_offset_ = 0;
};

}  // namespace mproc::thread

#endif  // MPROC_BACKENDS_THREAD_BYTE_QUEUE_H_
