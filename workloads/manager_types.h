// -----------------------------------------------------------------------------
// File: workloads/manager_types.h
// -----------------------------------------------------------------------------
//
// Registered targets that use the Manager's dict, queue, lock, event and
// value proxies (api/manager.h), for the conformance suite. Each runs on
// every backend and start method.

#ifndef MPROC_WORKLOADS_MANAGER_TYPES_H_
#define MPROC_WORKLOADS_MANAGER_TYPES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "api/manager.h"
#include "api/pipe.h"

namespace mproc::workloads {

using NameDict = DictProxy<std::string, int64_t>;

// Uses each type once with `tag`: dict["tag-<tag>"] = tag; queue.Put(tag);
// under `lock`, value += tag; then event.Set().
[[nodiscard]] absl::Status UseEveryType(NameDict dict,
                                        QueueProxy<int64_t> queue,
                                        LockProxy lock, EventProxy event,
                                        ValueProxy<int64_t> value, int64_t tag);

// Runs UseEveryType(..., tag + 1000) in a grandchild (same context), joins
// it, then UseEveryType(..., tag) itself.
[[nodiscard]] absl::Status UseEveryTypeInGrandchild(
    NameDict dict, QueueProxy<int64_t> queue, LockProxy lock, EventProxy event,
    ValueProxy<int64_t> value, int64_t tag);

// `times` times: under `lock`, value = value + 1 (a read, then a write).
[[nodiscard]] absl::Status IncrementUnderManagerLock(LockProxy lock,
                                                     ValueProxy<int64_t> value,
                                                     int64_t times);

// Acquires `lock`, sets `acquired`, then waits on `never` (an event nobody
// sets) until it is killed.
[[nodiscard]] absl::Status HoldManagerLockUntilKilled(LockProxy lock,
                                                      EventProxy acquired,
                                                      EventProxy never);

// Releases `lock` (held by another process) and stores the status code it
// got in `code`.
[[nodiscard]] absl::Status ReportRelease(LockProxy lock,
                                         ValueProxy<int64_t> code);

// Waits up to `timeout_ms` for `go`; when it came, sets `done`.
[[nodiscard]] absl::Status SetWhenSignalled(EventProxy go, EventProxy done,
                                            int64_t timeout_ms);

// Puts 0 .. count - 1 on `queue` (blocking while it is full).
[[nodiscard]] absl::Status PutCount(QueueProxy<int64_t> queue, int64_t count);

// Receives a dict proxy on `connection` (the process is already running
// when it is made), sets dict["from-pipe"] = 42 synchronously, and sends
// back its Size.
[[nodiscard]] absl::Status FillDictFromPipe(Connection connection);

// Takes a queue proxy from `inbox` (made after this process started) and
// puts 0 .. count - 1 on it.
[[nodiscard]] absl::Status FillQueueFromQueue(
    QueueProxy<QueueProxy<int64_t>> inbox, int64_t count);

}  // namespace mproc::workloads

#endif  // MPROC_WORKLOADS_MANAGER_TYPES_H_
