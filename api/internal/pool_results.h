// -----------------------------------------------------------------------------
// File: api/internal/pool_results.h
// -----------------------------------------------------------------------------
//
// Internal: where a Pool puts the results of the items of one call (a Map's
// inputs, one ApplyAsync): one slot per item, each an encoded value (a view
// into the result frame it came in, which the sink keeps) or an error, set
// once. Thread-safe; shared by the call's handle and the pool's
// dispatcher, so it outlives whichever ends first.

#ifndef MPROC_API_INTERNAL_POOL_RESULTS_H_
#define MPROC_API_INTERNAL_POOL_RESULTS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mproc::internal {

class ResultSink {
 public:
  // `size` slots; `completion_order`: remember the order slots are set in,
  // for WaitNthSet (ImapUnordered), which costs a word per slot.
  explicit ResultSink(size_t size, bool completion_order = false);

  size_t size() const { return places_.size(); }

  // Keeps `frame` (a result frame's bytes) as long as the sink lives, and
  // returns a view of it that stays valid that long: decode it, then file
  // its items with FillFrom.
  absl::string_view Keep(std::string frame);
  // Sets slots first, first + 1, ... to `results` (views into kept frames,
  // or errors), each unless it is set already: the first result wins.
  void FillFrom(size_t first,
                const std::vector<absl::StatusOr<absl::string_view>>& results);
  // Sets every unset slot of [first, first + count) to `error`.
  void Fail(size_t first, size_t count, const absl::Status& error);

  // Waits until every slot is set, or `deadline`; true when every slot is.
  bool WaitAll(absl::Time deadline) const;
  bool AllSet() const;
  // Waits until slot `index` is set, or `deadline`; true when it is.
  bool WaitSlot(size_t index, absl::Time deadline) const;
  // Waits until `n` + 1 slots are set, or `deadline`; the index of the slot
  // set `n`-th (from 0), or std::nullopt at the deadline. Only for a sink
  // made with `completion_order`.
  std::optional<size_t> WaitNthSet(size_t n, absl::Time deadline) const;

  // Slot `index`: the encoded value or the error. Call only once a wait
  // above said it is set (a set slot never changes).
  absl::StatusOr<absl::string_view> item(size_t index) const {
    const Place& place = places_[index];
    if (place.is_error) return *static_cast<const absl::Status*>(place.data);
    return absl::string_view(static_cast<const char*>(place.data), place.size);
  }

 private:
  // Where slot i's result is: the bytes of a view into a kept frame, or an
  // error (`data` then points to an absl::Status). 16 bytes: a 1 M-item Map
  // makes a million of them.
  struct Place {
    const void* data = nullptr;
    uint32_t size = 0;
    bool is_error = false;
  };

  mutable absl::Mutex mu_;
  // Written under mu_; read without it once a wait under mu_ saw the slot
  // set. The kept frames and errors are heap objects that never move, so a
  // view or pointer stays valid while the vectors holding them grow.
  std::vector<Place> places_;
  std::vector<std::unique_ptr<std::string>> frames_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<absl::Status>> errors_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> set_ ABSL_GUARDED_BY(mu_);
  const bool completion_order_;
  std::vector<size_t> order_ ABSL_GUARDED_BY(mu_);  // indices, as set
  size_t unset_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_POOL_RESULTS_H_
