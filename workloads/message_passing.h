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
#include <string>
#include <vector>

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

// Gets `count` items and checks they are 0, 1, ..., count - 1 in order (an
// error names the first that is not), then that the queue is empty.
[[nodiscard]] absl::Status DrainRange(Queue<int64_t> queue, int64_t count);

// The string of `size` bytes PutStrings puts as its item number `index`.
std::string PatternString(int64_t size, int64_t index);

// Puts PatternString(sizes[i], i) for each i, in order.
[[nodiscard]] absl::Status PutStrings(Queue<std::string> queue,
                                      std::vector<int64_t> sizes);

// Gets from `queue` with a hook inside the queue's lock: once the item is
// copied out and before it is removed, sets `held` and waits for `never`
// until it is ended (killed or terminated).
[[nodiscard]] absl::Status HoldQueueLockInGet(Queue<int64_t> queue, Event held,
                                              Event never);

// Puts `item` with the same hook: once its bytes are in the ring and before
// they are published.
[[nodiscard]] absl::Status HoldQueueLockInPut(Queue<int64_t> queue,
                                              int64_t item, Event held,
                                              Event never);

// SimpleQueue: takes `count` items from `from` and puts each times 2 on
// `to`.
[[nodiscard]] absl::Status DoubleItems(SimpleQueue<int64_t> from,
                                       SimpleQueue<int64_t> to, int64_t count);

// JoinableQueue: takes `count` items and marks each done (TaskDone), after
// putting it on `taken`.
[[nodiscard]] absl::Status TakeAndMarkDone(JoinableQueue<int64_t> queue,
                                           Queue<int64_t> taken, int64_t count);

}  // namespace mproc::workloads

#endif  // MPROC_WORKLOADS_MESSAGE_PASSING_H_
