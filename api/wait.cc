// Wait over Connections and Processes (api/wait.h).
#include "api/wait.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "api/cancellation.h"
#include "api/internal/lifecycle.h"
#include "api/internal/process_record.h"
#include "api/internal/process_state.h"
#include "api/internal/shared_parts.h"

namespace mproc {
namespace {

constexpr absl::string_view kVerb = "wait for";

// The child of `record` to watch, or std::nullopt when it has already been
// reaped (ready). kFailedPrecondition as Join's checks.
[[nodiscard]] absl::StatusOr<std::optional<std::shared_ptr<Child>>>
ChildToWatch(internal::ProcessRecord* record) {
  if (record == nullptr) return internal::MovedFromError();
  absl::MutexLock lock(&record->mu);
  if (record->phase == internal::Phase::kClosed) {
    return internal::ClosedError();
  }
  if (record->parent_pid != internal::CurrentState().pid()) {
    return internal::NotAChildError(kVerb);
  }
  if (record->phase == internal::Phase::kInitial) {
    return internal::NotStartedError(kVerb);
  }
  if (record->exit.has_value()) return std::optional<std::shared_ptr<Child>>();
  return std::optional<std::shared_ptr<Child>>(record->child);
}

}  // namespace

absl::StatusOr<std::vector<size_t>> Wait(gsl::span<const WaitObject> objects,
                                         absl::Duration timeout) {
  if (objects.empty()) {
    return absl::InvalidArgumentError(
        "Wait needs at least one Connection or Process to wait for");
  }
  Backend* backend = nullptr;
  auto same_backend = [&backend](Backend* other) {
    if (backend == nullptr) backend = other;
    return backend == other;
  };
  // Holds every Connection's end in this process while the backend polls it.
  std::vector<std::shared_ptr<internal::ConnectionCore>> cores;
  std::vector<internal::ConnectionCore::Use> uses;
  std::vector<ChannelEnd*> ends;
  std::vector<size_t> end_positions;
  std::vector<std::shared_ptr<Child>> children;
  std::vector<size_t> child_positions;
  std::vector<size_t> ready;
  for (size_t i = 0; i < objects.size(); ++i) {
    const WaitObject& object = objects[i];
    Backend* object_backend = nullptr;
    if (object.connection() != nullptr) {
      std::shared_ptr<internal::ConnectionCore> core =
          WaitObject::CoreOf(*object.connection());
      absl::StatusOr<internal::ConnectionCore::Use> use =
          core->BeginUse(/*reading=*/true);
      if (!use.ok()) return use.status();
      uses.push_back(*std::move(use));
      object_backend = core->backend();
      if (core->HasBufferedBytes()) {
        ready.push_back(i);
      } else {
        ends.push_back(core->end());
        end_positions.push_back(i);
      }
      cores.push_back(std::move(core));
    } else {
      std::shared_ptr<internal::ProcessRecord> record =
          WaitObject::RecordOf(*object.process());
      absl::StatusOr<std::optional<std::shared_ptr<Child>>> child =
          ChildToWatch(record.get());
      if (!child.ok()) return child.status();
      object_backend = record->backend;
      if (!child->has_value()) {
        ready.push_back(i);
      } else {
        children.push_back(**std::move(child));
        child_positions.push_back(i);
      }
    }
    if (!same_backend(object_backend)) {
      return absl::InvalidArgumentError(
          "Wait watches objects of one backend at a time; these come from "
          "different contexts' backends");
    }
  }
  if (!ends.empty() || !children.empty()) {
    std::vector<Child*> watched;
    watched.reserve(children.size());
    for (const std::shared_ptr<Child>& child : children) {
      watched.push_back(child.get());
    }
    // Something is ready already: only look at the rest.
    const absl::Time deadline =
        ready.empty() ? internal::DeadlineOf(timeout) : absl::InfinitePast();
    absl::StatusOr<Backend::Ready> found =
        backend->WaitReady(ends, watched, deadline);
    if (!found.ok()) {
      if (absl::IsCancelled(found.status())) CancellationPoint();
      return found.status();
    }
    for (size_t k : found->ends) ready.push_back(end_positions[k]);
    for (size_t k : found->children) ready.push_back(child_positions[k]);
  }
  std::sort(ready.begin(), ready.end());
  return ready;
}

}  // namespace mproc
