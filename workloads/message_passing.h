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

}  // namespace mproc::workloads

#endif  // MPROC_WORKLOADS_MESSAGE_PASSING_H_
