// The handover table (api/internal/handover.h).
#include "api/internal/handover.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/internal/process_state.h"

namespace mproc::internal {
namespace {

thread_local HandoverCollector* active_collector = nullptr;
thread_local const std::vector<std::shared_ptr<SharedObject>>* scoped_table =
    nullptr;

}  // namespace

HandoverCollector::HandoverCollector() : previous_(active_collector) {
  active_collector = this;
}

HandoverCollector::~HandoverCollector() { active_collector = previous_; }

ScopedHandoverTable::ScopedHandoverTable(
    const std::vector<std::shared_ptr<SharedObject>>& table)
    : previous_(scoped_table) {
  scoped_table = &table;
}

ScopedHandoverTable::~ScopedHandoverTable() { scoped_table = previous_; }

uint64_t RecordHandover(std::shared_ptr<SharedObject> object) {
  HandoverCollector* collector = active_collector;
  if (collector == nullptr) return kNotHandedOver;
  auto& objects = collector->objects_;
  auto it = std::find(objects.begin(), objects.end(), object);
  if (it != objects.end()) return static_cast<uint64_t>(it - objects.begin());
  objects.push_back(std::move(object));
  return objects.size() - 1;
}

absl::StatusOr<std::shared_ptr<SharedObject>> HandedOver(uint64_t index) {
  if (index == kNotHandedOver) {
    return absl::InvalidArgumentError(
        "a shared-state object (Lock, Event, Value, ...) or a Connection "
        "can only be passed to a child as a target argument at Start, not "
        "stored in a Manager or sent by other means");
  }
  const std::vector<std::shared_ptr<SharedObject>>& table =
      scoped_table != nullptr ? *scoped_table : CurrentState().handovers();
  if (index >= table.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed launch request: handover index ", index,
                     " but ", table.size(), " objects were handed over"));
  }
  return table[index];
}

}  // namespace mproc::internal
