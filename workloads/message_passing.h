// -----------------------------------------------------------------------------
// File: workloads/message_passing.h
// -----------------------------------------------------------------------------
//
// Registered targets that use Pipe and Connection (api/pipe.h), for the
// conformance suite and the benchmarks. Each runs on every backend and start
// method.

#ifndef MPROC_WORKLOADS_MESSAGE_PASSING_H_
#define MPROC_WORKLOADS_MESSAGE_PASSING_H_

#include <cstdint>

#include "absl/status/status.h"
#include "api/pipe.h"
#include "api/queue.h"
#include "api/synchronize.h"

namespace mproc::workloads {

// Sends back every message it receives, as it is, until the peer has gone
// (then returns OK).
[[nodiscard]] absl::Status EchoMessages(Connection connection);

// Sends 0, 1, ..., count - 1 (int64_t), then returns.
[[nodiscard]] absl::Status SendCount(Connection connection, int64_t count);

// Returns at once, holding `connection` only while it runs.
void ReturnAtOnce(Connection connection);

// Receives one message, then returns.
[[nodiscard]] absl::Status ReturnOnMessage(Connection connection);

// Receives on `connection` until it is ended (killed or terminated): the
// parent never sends.
[[nodiscard]] absl::Status BlockInRecv(Connection connection);

// Starts a child (same context) that runs EchoMessages(connection), and
// joins it: a Connection passed on to a grandchild.
[[nodiscard]] absl::Status EchoInGrandchild(Connection connection);

// Puts `first`, `first` + 1, ..., `first` + count - 1 on `queue`, then
// returns at once (the items must survive its end).
[[nodiscard]] absl::Status PutRange(Queue<int64_t> queue, int64_t first,
                                    int64_t count);

// Takes `count` items from `from` and puts each on `to`.
[[nodiscard]] absl::Status ForwardItems(Queue<int64_t> from, Queue<int64_t> to,
                                        int64_t count);

// Sets `started`, then gets from `queue` until it is ended (killed or
// terminated): nobody puts.
[[nodiscard]] absl::Status BlockInGet(Queue<int64_t> queue, Event started);

}  // namespace mproc::workloads

#endif  // MPROC_WORKLOADS_MESSAGE_PASSING_H_
