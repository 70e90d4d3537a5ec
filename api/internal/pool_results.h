// -----------------------------------------------------------------------------
// File: api/internal/pool_results.h
// -----------------------------------------------------------------------------
//
// Internal: where a Pool puts the results of the items of one call (a Map's
// inputs, one ApplyAsync): one slot per item, each an encoded value or an
// error, set once. Thread-safe; shared by the call's handle and the pool's
// dispatcher, so it outlives whichever ends first.

#ifndef MPROC_API_INTERNAL_POOL_RESULTS_H_
#define MPROC_API_INTERNAL_POOL_RESULTS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mproc::internal {

class ResultSink {
 public:
  explicit ResultSink(size_t size);

  size_t size() const { return slots_.size(); }

  // Sets slots first, first + 1, ... to `results`, each unless it is set
  // already: the first result of an item wins.
  void FillFrom(size_t first, std::vector<absl::StatusOr<std::string>> results);
  // Sets every unset slot of [first, first + count) to `error`.
  void Fail(size_t first, size_t count, const absl::Status& error);

  // Waits until every slot is set, or `deadline`; true when every slot is.
  bool WaitAll(absl::Time deadline) const;
  bool AllSet() const;
  // Waits until slot `index` is set, or `deadline`; true when it is.
  bool WaitSlot(size_t index, absl::Time deadline) const;
  // Waits until `n` + 1 slots are set, or `deadline`; the index of the slot
  // set `n`-th (from 0), or std::nullopt at the deadline.
  std::optional<size_t> WaitNthSet(size_t n, absl::Time deadline) const;

  // Slot `index`; call only once a wait above said it is set (a set slot
  // never changes).
  const absl::StatusOr<std::string>& slot(size_t index) const {
    return slots_[index];
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<absl::StatusOr<std::string>> slots_;  // set under mu_
  std::vector<bool> set_ ABSL_GUARDED_BY(mu_);
  std::vector<size_t> order_ ABSL_GUARDED_BY(mu_);  // indices, as set
  size_t unset_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_POOL_RESULTS_H_
