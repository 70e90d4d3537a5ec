#include "api/internal/pool_results.h"

#include <utility>

#include "gsl/assert"

namespace mproc::internal {

ResultSink::ResultSink(size_t size)
    : slots_(size, absl::UnknownError("not computed")),
      set_(size, false),
      unset_(size) {
  order_.reserve(size);
}

void ResultSink::FillFrom(size_t first,
                          std::vector<absl::StatusOr<std::string>> results) {
  Expects(first + results.size() <= slots_.size());
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < results.size(); ++i) {
    if (set_[first + i]) continue;
    slots_[first + i] = std::move(results[i]);
    set_[first + i] = true;
    order_.push_back(first + i);
    --unset_;
  }
}

void ResultSink::Fail(size_t first, size_t count, const absl::Status& error) {
  Expects(first + count <= slots_.size());
  absl::MutexLock lock(&mu_);
  for (size_t i = first; i < first + count; ++i) {
    if (set_[i]) continue;
    slots_[i] = error;
    set_[i] = true;
    order_.push_back(i);
    --unset_;
  }
}

bool ResultSink::WaitAll(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto all_set = [this]()
                     ABSL_SHARED_LOCKS_REQUIRED(mu_) { return unset_ == 0; };
  return mu_.AwaitWithDeadline(absl::Condition(&all_set), deadline);
}

bool ResultSink::WaitSlot(size_t index, absl::Time deadline) const {
  Expects(index < slots_.size());
  absl::MutexLock lock(&mu_);
  auto is_set = [this, index]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return static_cast<bool>(set_[index]);
  };
  return mu_.AwaitWithDeadline(absl::Condition(&is_set), deadline);
}

std::optional<size_t> ResultSink::WaitNthSet(size_t n,
                                             absl::Time deadline) const {
  Expects(n < slots_.size());
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return order_.size() > n;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&enough), deadline)) {
    return std::nullopt;
  }
  return order_[n];
}

bool ResultSink::AllSet() const {
  absl::MutexLock lock(&mu_);
  return unset_ == 0;
}

}  // namespace mproc::internal
