// -----------------------------------------------------------------------------
// File: api/internal/process_record.h
// -----------------------------------------------------------------------------
//
// Internal: the state of one Process, shared by the Process object and its
// parent's list of children (which keeps it after the Process is destroyed,
// until the child is reaped).

#ifndef MPROC_API_INTERNAL_PROCESS_RECORD_H_
#define MPROC_API_INTERNAL_PROCESS_RECORD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/backend.h"
#include "api/exit_status.h"

namespace mproc::internal {

enum class Phase { kInitial, kStarted, kClosed };

struct ProcessRecord {
  ProcessRecord(Backend* backend, StartMethod start_method,
                std::vector<int> identity, int64_t parent_pid)
      : backend(backend),
        start_method(std::move(start_method)),
        identity(std::move(identity)),
        parent_pid(parent_pid) {}

  Backend* const backend;
  const StartMethod start_method;
  const std::vector<int> identity;
  const int64_t parent_pid;  // the creating process

  mutable absl::Mutex mu;
  std::string name ABSL_GUARDED_BY(mu);
  bool daemon ABSL_GUARDED_BY(mu) = false;
  std::optional<bool> kill_on_parent_death ABSL_GUARDED_BY(mu);
  TargetCall target ABSL_GUARDED_BY(mu);
  // A Manager server's listener, handed to the child at Start.
  std::shared_ptr<Listener> listener ABSL_GUARDED_BY(mu);
  // A bad name given at construction, reported by Start.
  absl::Status deferred_error ABSL_GUARDED_BY(mu);
  Phase phase ABSL_GUARDED_BY(mu) = Phase::kInitial;
  std::shared_ptr<Child> child ABSL_GUARDED_BY(mu);
  std::optional<int64_t> pid ABSL_GUARDED_BY(mu);
  std::optional<ExitStatus> exit ABSL_GUARDED_BY(mu);
};

// Waits for `record`'s child until `deadline` and records its exit. Returns
// the exit status once known, std::nullopt while it runs (or before start),
// or the backend's error.
[[nodiscard]] absl::StatusOr<std::optional<ExitStatus>> PollChild(
    ProcessRecord& record, absl::Time deadline);

// Stops started children together (Process::Stop for several): terminates
// every one still running, waits for them with one deadline `grace` from
// now, kills those still running, and waits until all have ended. Returns the
// first error the backend reported (the others are still attempted).
[[nodiscard]] absl::Status StopChildren(
    const std::vector<std::shared_ptr<ProcessRecord>>& records,
    absl::Duration grace);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_PROCESS_RECORD_H_
