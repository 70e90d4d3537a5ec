// -----------------------------------------------------------------------------
// File: api/internal/manager_server.h
// -----------------------------------------------------------------------------
//
// Internal: the Manager server, one for every backend. It runs as the target
// of the Manager's server process, on the backend's Listener.

#ifndef MPROC_API_INTERNAL_MANAGER_SERVER_H_
#define MPROC_API_INTERNAL_MANAGER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "api/backend.h"

namespace mproc::internal {

// Serves clients on `listener` until one sends Shutdown, the listener is
// closed, or (cooperative backends) the server process is cancelled. A
// client must first send Hello with `authkey`; a wrong key or a malformed
// frame closes that client's connection with a line on stderr and never
// disturbs the others. Each connection is served by its own thread, so one
// slow client never blocks another. Returns OK after a Shutdown request.
[[nodiscard]] absl::Status ServeManager(Listener& listener,
                                        absl::string_view authkey);

// The Manager server process's target (registered as "mproc.ManagerServer"):
// serves on the listener the process was launched with.
[[nodiscard]] absl::Status RunManagerServer(std::string authkey);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_MANAGER_SERVER_H_
