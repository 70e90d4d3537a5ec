// -----------------------------------------------------------------------------
// File: api/async_result.h
// -----------------------------------------------------------------------------
//
// What a Pool (api/pool.h) hands back before its results are there:
// `AsyncResult<T>` for one ApplyAsync, as CPython's AsyncResult, and
// `ResultIterator<T>` for Imap / ImapUnordered, as CPython's IMapIterator.
// Both are cheap handles on results the Pool fills in, thread-safe, and may
// outlive their Pool (a Pool that ends first fails what it had not
// finished).

#ifndef MPROC_API_ASYNC_RESULT_H_
#define MPROC_API_ASYNC_RESULT_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/codec.h"
#include "api/internal/pool_results.h"
#include "api/internal/pool_task.h"

namespace mproc {

class Pool;

// AsyncResult
//
// The result of one ApplyAsync. Copyable: copies share the result.
template <typename T>
class AsyncResult {
 public:
  // Waits up to `timeout` for the result (InfiniteDuration: for ever; zero:
  // only looks), then returns the task's value or its error (see the file
  // comment). When the timeout passes first: `kDeadlineExceeded` "result not
  // ready" (Ready() tells it from a task's own kDeadlineExceeded).
  [[nodiscard]] absl::StatusOr<T> Get(
      absl::Duration timeout = absl::InfiniteDuration()) const {
    if (!Wait(timeout)) {
      return absl::DeadlineExceededError(
          absl::StrCat("result not ready after ", absl::FormatDuration(timeout),
                       "; Get again with a longer timeout, or check Ready()"));
    }
    absl::StatusOr<absl::string_view> bytes = sink_->item(0);
    if (!bytes.ok()) return bytes.status();
    return DecodeValue<T>(*bytes);
  }

  // Waits up to `timeout` for the result; true once it is ready.
  bool Wait(absl::Duration timeout = absl::InfiniteDuration()) const {
    return sink_->WaitAll(absl::Now() + timeout);
  }

  // True once the result (a value or an error) is there.
  bool Ready() const { return sink_->AllSet(); }

  // Whether the task succeeded. `kFailedPrecondition` before it is ready
  // (CPython's ValueError).
  [[nodiscard]] absl::StatusOr<bool> Successful() const {
    if (!Ready()) {
      return absl::FailedPreconditionError(
          "result is not ready; Wait() for it before asking Successful()");
    }
    return sink_->item(0).ok();
  }

 private:
  friend class Pool;
  explicit AsyncResult(std::shared_ptr<internal::ResultSink> sink)
      : sink_(std::move(sink)) {}

  std::shared_ptr<internal::ResultSink> sink_;
};

// ResultIterator
//
// The results of one Imap (in input order) or ImapUnordered (in the order
// they complete). Move-only; one consumer at a time.
template <typename T>
class ResultIterator {
 public:
  ResultIterator(ResultIterator&&) noexcept = default;
  ResultIterator& operator=(ResultIterator&&) noexcept = default;

  // The next result, waiting up to `timeout` for it: its value, or that
  // item's error (its message names the item; the iteration goes on).
  // `kOutOfRange` "no more results" after the last; `kDeadlineExceeded`
  // "result not ready" when the timeout passes first (nothing is consumed:
  // call again).
  [[nodiscard]] absl::StatusOr<T> Next(
      absl::Duration timeout = absl::InfiniteDuration()) {
    if (next_ >= sink_->size()) {
      return absl::OutOfRangeError(absl::StrCat(
          "no more results: all ", sink_->size(), " have been returned"));
    }
    const absl::Time deadline = absl::Now() + timeout;
    std::optional<size_t> index;
    if (ordered_) {
      if (sink_->WaitSlot(next_, deadline)) index = next_;
    } else {
      index = sink_->WaitNthSet(next_, deadline);
    }
    if (!index.has_value()) {
      return absl::DeadlineExceededError(
          absl::StrCat("result not ready after ", absl::FormatDuration(timeout),
                       "; call Next again with a longer timeout"));
    }
    ++next_;
    return internal::DecodeItem<T>(sink_->item(*index), *index);
  }

  // How many results there are in all, and how many Next has returned.
  size_t size() const { return sink_->size(); }
  size_t consumed() const { return next_; }

 private:
  friend class Pool;
  ResultIterator(std::shared_ptr<internal::ResultSink> sink, bool ordered)
      : sink_(std::move(sink)), ordered_(ordered) {}

  std::shared_ptr<internal::ResultSink> sink_;
  bool ordered_;
  size_t next_ = 0;
};

}  // namespace mproc

#endif  // MPROC_API_ASYNC_RESULT_H_
