#include "api/internal/pool_results.h"

#include <utility>

#include "gsl/assert"
#include "gsl/narrow"

namespace mproc::internal {

ResultSink::ResultSink(size_t size, bool completion_order)
    : places_(size),
      set_(size, false),
      completion_order_(completion_order),
      unset_(size) {
  if (completion_order_) order_.reserve(size);
}

absl::string_view ResultSink::Keep(std::string frame) {
  auto kept = std::make_unique<std::string>(std::move(frame));
  const absl::string_view view = *kept;
  absl::MutexLock lock(&mu_);
  frames_.push_back(std::move(kept));
  return view;
}

void ResultSink::FillFrom(
    size_t first,
    const std::vector<absl::StatusOr<absl::string_view>>& results) {
  Expects(first + results.size() <= places_.size());
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < results.size(); ++i) {
    const size_t index = first + i;
    if (set_[index]) continue;
    Place& place = places_[index];
    if (results[i].ok()) {
      place.data = results[i]->data();
      place.size = gsl::narrow<uint32_t>(results[i]->size());
    } else {
      errors_.push_back(std::make_unique<absl::Status>(results[i].status()));
      place.data = errors_.back().get();
      place.is_error = true;
    }
    set_[index] = true;
    if (completion_order_) order_.push_back(index);
    --unset_;
  }
}

void ResultSink::Fail(size_t first, size_t count, const absl::Status& error) {
  Expects(first + count <= places_.size());
  Expects(!error.ok());
  absl::MutexLock lock(&mu_);
  const absl::Status* shared = nullptr;
  for (size_t i = first; i < first + count; ++i) {
    if (set_[i]) continue;
    if (shared == nullptr) {
      errors_.push_back(std::make_unique<absl::Status>(error));
      shared = errors_.back().get();
    }
    places_[i].data = shared;
    places_[i].is_error = true;
    set_[i] = true;
    if (completion_order_) order_.push_back(i);
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
  Expects(index < places_.size());
  absl::MutexLock lock(&mu_);
  auto is_set = [this, index]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return static_cast<bool>(set_[index]);
  };
  return mu_.AwaitWithDeadline(absl::Condition(&is_set), deadline);
}

std::optional<size_t> ResultSink::WaitNthSet(size_t n,
                                             absl::Time deadline) const {
  Expects(n < places_.size());
  Expects(completion_order_);
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
