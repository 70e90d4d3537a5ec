// -----------------------------------------------------------------------------
// File: api/wait.h
// -----------------------------------------------------------------------------
//
// Wait, as CPython's multiprocessing.connection.wait: waits on Connections
// (api/pipe.h) and Processes (their "sentinels") together, and returns the
// ready ones.
//
//   absl::StatusOr<std::vector<size_t>> ready =
//       mproc::Wait({results, worker_a, worker_b}, absl::Seconds(1));
//   for (size_t i : *ready) ...  // 0: results has a message (or its peer
//                                // has gone); 1, 2: that worker has ended

#ifndef MPROC_API_WAIT_H_
#define MPROC_API_WAIT_H_

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/pipe.h"
#include "api/process.h"
#include "gsl/span"

namespace mproc {

// WaitObject
//
// One thing Wait watches: a Connection or a Process. Refers to it (does not
// copy it): keep the object alive until Wait returns.
class WaitObject {
 public:
  // Ready when Poll() would return true: a message (or its first bytes) has
  // arrived, or the peer has gone.
  WaitObject(const Connection& connection)  // NOLINT: implicit on purpose
      : connection_(&connection) {}
  // Ready once the child has ended (Join then returns at once).
  WaitObject(const Process& process)  // NOLINT: implicit on purpose
      : process_(&process) {}

  // The Connection watched, or nullptr.
  const Connection* connection() const { return connection_; }
  // The Process watched, or nullptr.
  const Process* process() const { return process_; }

 private:
  friend absl::StatusOr<std::vector<size_t>> Wait(
      gsl::span<const WaitObject> objects, absl::Duration timeout);
  static std::shared_ptr<internal::ConnectionCore> CoreOf(
      const Connection& connection) {
    return connection.core_;
  }
  static std::shared_ptr<internal::ProcessRecord> RecordOf(
      const Process& process) {
    return process.record_;
  }

  const Connection* connection_ = nullptr;
  const Process* process_ = nullptr;
};

// Waits until at least one of `objects` is ready or `timeout` passes
// (absl::InfiniteDuration(): for ever; zero or less: only looks). Returns the
// positions in `objects` of every object ready, ascending; empty when the
// timeout passed first (not an error, as CPython returns []).
//
// Errors: `kInvalidArgument` for an empty `objects` (nothing could ever be
// ready) or objects of different backends; `kFailedPrecondition` for a
// Connection that is closed ("handle is closed") or write-only, and for a
// Process not started, closed, or not a child of the calling process (as
// Join); the backend's (windows: at most 63 objects at once). A blocked Wait
// is a cancellation point on the thread backend.
[[nodiscard]] absl::StatusOr<std::vector<size_t>> Wait(
    gsl::span<const WaitObject> objects,
    absl::Duration timeout = absl::InfiniteDuration());
[[nodiscard]] inline absl::StatusOr<std::vector<size_t>> Wait(
    std::initializer_list<WaitObject> objects,
    absl::Duration timeout = absl::InfiniteDuration()) {
  return Wait(gsl::span<const WaitObject>(objects.begin(), objects.size()),
              timeout);
}

}  // namespace mproc

#endif  // MPROC_API_WAIT_H_
