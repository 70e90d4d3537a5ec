// -----------------------------------------------------------------------------
// File: api/internal/manager_server.h
// -----------------------------------------------------------------------------
//
// Internal: the Manager server, one for every backend. It runs as the target
// of the Manager's server process, on the backend's Listener.

#ifndef MPROC_API_INTERNAL_MANAGER_SERVER_H_
#define MPROC_API_INTERNAL_MANAGER_SERVER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/backend.h"

namespace mproc::internal {

// How much a server takes on.
struct ServerLimits {
  // Live connections (authenticated or in their handshake). Past it a new
  // client waits up to a second for one to finish (an ended client's
  // hang-up is seen a moment later), then is refused with
  // `kResourceExhausted`.
  int64_t max_connections = 1024;
  // A connection whose handshake is not done by then is closed.
  absl::Duration handshake_timeout = absl::Seconds(10);
};

struct ServerOptions {
  ServerLimits limits;
  // Starts a thread running `body` (the server joins it once `body` has
  // returned; a returned std::thread that is not joinable, from a runner
  // that ran `body` some other way, is not). Throws std::system_error when
  // no thread can be made; the server then refuses that connection and goes
  // on. Empty: std::thread. Tests replace it.
  std::function<std::thread(std::function<void()>)> start_thread;
  // The longest one blocking request (a Manager Queue's Get or Put, a
  // Lock's Acquire, an Event's Wait) waits on the server, whatever its
  // timeout. Such a wait also ends when its client hangs up (seen within
  // ManagerStore::kWaitSlice) or the server stops. Tests and fuzzers set
  // zero.
  absl::Duration max_wait = absl::InfiniteDuration();
};

// Serves clients on `listener` until one sends Shutdown, the listener is
// closed, or (cooperative backends) the server process is cancelled. Each
// client must pass the handshake (manager_protocol.h) for `authkey`, with
// `backend`'s random bytes and HMAC; a failed handshake, a malformed frame
// or a handshake past its deadline closes that client's connection with a
// line on stderr and never disturbs the others. Each connection is served by
// its own thread, so one slow client never blocks another; a connection that
// ends releases its channel at once, and its thread is joined by the next
// connection thread to end (so at most one ended thread waits to be joined)
// or before ServeManager returns. No other thread runs: a handshake's
// deadline is its reads' (Channel::ReadSomeUntil). Accept errors other than
// kCancelled are logged once per streak and retried with a backoff. Returns
// OK after a Shutdown request, `kCancelled` otherwise, once every connection
// thread has finished.
[[nodiscard]] absl::Status ServeManager(Listener& listener, Backend& backend,
                                        absl::string_view authkey,
                                        const ServerOptions& options = {});

// The Manager server process's target (registered as "mproc.ManagerServer"):
// protects the process's secrets (Backend::ProtectProcessSecrets) and serves
// on the listener the process was launched with.
[[nodiscard]] absl::Status RunManagerServer(std::string authkey,
                                            int64_t max_connections,
                                            int64_t handshake_timeout_ms);

// The limits the next Managers this process starts will have (their server
// reads them from its arguments, so they reach it on every start method).
ServerLimits LimitsForNewManagers();

// Test-only: sets LimitsForNewManagers() for its lifetime.
class ScopedServerLimitsForTesting {
 public:
  explicit ScopedServerLimitsForTesting(ServerLimits limits);
  ~ScopedServerLimitsForTesting();
  ScopedServerLimitsForTesting(const ScopedServerLimitsForTesting&) = delete;
  ScopedServerLimitsForTesting& operator=(const ScopedServerLimitsForTesting&) =
      delete;

 private:
  ServerLimits saved_;
};

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_MANAGER_SERVER_H_
