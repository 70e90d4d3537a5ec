// -----------------------------------------------------------------------------
// File: api/internal/manager_client.h
// -----------------------------------------------------------------------------
//
// Internal: the client side of the Manager protocol. A ManagerEndpoint says
// where a server is; each process opens its own ManagerConnection to it,
// lazily, once (kept in that process's ProcessState), and pipelines Append /
// Extend in a buffer that synchronous calls, Process::Start and the exit-time
// rules flush.

#ifndef MPROC_API_INTERNAL_MANAGER_CLIENT_H_
#define MPROC_API_INTERNAL_MANAGER_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "api/backend.h"
#include "api/internal/manager_protocol.h"
#include "api/wire.h"
#include "gsl/span"

namespace mproc::internal {

// Where a Manager server listens and how to prove we may talk to it.
struct ManagerEndpoint {
  std::string backend;  // Backend::name() of the backend that listens
  std::string address;
  std::string authkey;  // kAuthkeySize bytes
  // Set by the owning Manager's Shutdown, in the owning process only.
  std::atomic<bool> shut_down{false};
};

// Writes `endpoint` (nullptr: an unbound proxy).
void EncodeEndpoint(const ManagerEndpoint* endpoint, ByteWriter& out);
// Reads an endpoint; nullptr for an unbound proxy. `kInvalidArgument` on
// malformed input, `kNotFound` when its backend is not linked in.
[[nodiscard]] absl::StatusOr<std::shared_ptr<ManagerEndpoint>> DecodeEndpoint(
    ByteReader& in);

// One process's connection to one server. Thread-safe.
class ManagerConnection {
 public:
  // Connects and authenticates (the handshake in manager_protocol.h).
  // Errors: `kUnavailable` when nothing listens ("the Manager has shut down
  // or died"); the handshake's (OfferHandshake): `kUnauthenticated`,
  // `kResourceExhausted` when the server has too many connections, ...
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<ManagerConnection>> Open(
      const ManagerEndpoint& endpoint);
  // Authenticates on `channel`, already connected to `endpoint.address`.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<ManagerConnection>>
  OpenOn(const ManagerEndpoint& endpoint, std::unique_ptr<Channel> channel);

  // Queues a request that has no reply; writes when the buffer is large.
  // `kResourceExhausted` (and nothing sent) for a payload over
  // kMaxFramePayload; `kUnavailable` when the connection is broken.
  [[nodiscard]] absl::Status Post(absl::string_view payload);
  // Sends queued requests and `payload`, and returns the reply's body.
  // `kResourceExhausted` (and nothing sent) for a payload over
  // kMaxFramePayload; the server's error for the request; `kUnavailable`
  // when the connection breaks (it is then broken for good: IsBroken).
  [[nodiscard]] absl::StatusOr<std::string> Call(absl::string_view payload);
  // Returns once the server has applied every earlier write of this
  // connection (a round trip, only when writes are unacknowledged), or the
  // first error one of them met. OK on a broken connection (its error has
  // been reported by the call that met it).
  [[nodiscard]] absl::Status Sync();
  // Closes the channel; later calls fail with `kUnavailable`.
  void Close();
  // True once the connection has failed or been closed: the process's next
  // proxy call opens a new one instead.
  bool IsBroken() const;
  // True when writes were posted since the last reply and the connection is
  // not known to be broken: a Sync now tells whether they were applied or
  // lost. False once a call has failed (the caller was told then).
  bool HasUnacknowledgedWrites();

 private:
  ManagerConnection(std::string address, std::unique_ptr<Channel> channel);
  [[nodiscard]] absl::Status FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  [[nodiscard]] absl::StatusOr<std::string> CallLocked(
      absl::string_view payload) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  [[nodiscard]] absl::Status Broken(absl::Status cause)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string address_;
  absl::Mutex mu_;
  std::unique_ptr<Channel> channel_ ABSL_GUARDED_BY(mu_);
  FrameReader reader_ ABSL_GUARDED_BY(mu_);
  std::string pending_ ABSL_GUARDED_BY(mu_);
  // Writes were posted since the last reply.
  bool unacknowledged_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status broken_ ABSL_GUARDED_BY(mu_);
  // !broken_.ok(), readable without the lock (checked on every proxy call).
  std::atomic<bool> is_broken_{false};
};

// The requests a proxy makes, each on the calling process's connection.
[[nodiscard]] absl::Status PostAppend(const ManagerEndpoint& endpoint,
                                      uint64_t id, absl::string_view item);
[[nodiscard]] absl::Status PostExtend(const ManagerEndpoint& endpoint,
                                      uint64_t id,
                                      gsl::span<const std::string> items);
[[nodiscard]] absl::StatusOr<uint64_t> CallCreateList(
    const ManagerEndpoint& endpoint);
[[nodiscard]] absl::StatusOr<int64_t> CallSize(const ManagerEndpoint& endpoint,
                                               uint64_t id);
[[nodiscard]] absl::StatusOr<std::string> CallGet(
    const ManagerEndpoint& endpoint, uint64_t id, int64_t index);
[[nodiscard]] absl::StatusOr<std::vector<std::string>> CallSnapshot(
    const ManagerEndpoint& endpoint, uint64_t id);
// Any request on the calling process's connection: Call waits for the reply
// and returns its body; Post queues a request that has no reply.
[[nodiscard]] absl::StatusOr<std::string> CallOp(
    const ManagerEndpoint& endpoint, Op op, absl::string_view fields = {});
[[nodiscard]] absl::Status PostOp(const ManagerEndpoint& endpoint, Op op,
                                  absl::string_view fields);
// Asks the server to stop; it replies, then stops.
[[nodiscard]] absl::Status CallShutdown(const ManagerEndpoint& endpoint);

// Syncs and closes the calling process's connection to `endpoint`, if any.
void DropConnection(const ManagerEndpoint& endpoint);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_MANAGER_CLIENT_H_
