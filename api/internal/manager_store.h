// -----------------------------------------------------------------------------
// File: api/internal/manager_store.h
// -----------------------------------------------------------------------------
//
// Internal: what a Manager server holds (its lists) and how one request
// changes or reads it. No channel, no thread, no authentication: the server
// (manager_server.h) calls Apply for each authenticated request, and a fuzzer
// can call it with any bytes.

#ifndef MPROC_API_INTERNAL_MANAGER_STORE_H_
#define MPROC_API_INTERNAL_MANAGER_STORE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "api/internal/manager_protocol.h"
#include "api/wire.h"

namespace mproc::internal {

// ManagerStore
//
// The lists of one Manager server. Thread-safe: Apply may be called from
// every connection's thread at once.
class ManagerStore {
 public:
  // `max_reply` bounds the body of one reply (a Snapshot of a list that does
  // not fit is refused, not built).
  explicit ManagerStore(size_t max_reply = kMaxReplyBody)
      : max_reply_(max_reply) {}
  ManagerStore(const ManagerStore&) = delete;
  ManagerStore& operator=(const ManagerStore&) = delete;

  // Applies request `op` whose fields `in` holds (after the op), and writes
  // the result body of a synchronous op to `reply`. Never crashes on any
  // input. Errors (the request's own; the store is unchanged unless noted):
  // `kInvalidArgument` for malformed fields or Hello (the handshake is the
  // server's, not a request); `kNotFound` for an unknown list id;
  // `kOutOfRange` for a Get index past either end; `kResourceExhausted` when
  // the reply would exceed `max_reply` bytes. Extend applies the items before
  // a malformed one. Shutdown and Sync change nothing and return OK (the
  // server acts on Shutdown). Fields left unread in `in` are the caller's to
  // check.
  [[nodiscard]] absl::Status Apply(Op op, ByteReader& in, ByteWriter& reply);

 private:
  absl::StatusOr<std::vector<std::string>*> FindList(uint64_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyToList(Op op, std::vector<std::string>& list,
                           ByteReader& in, ByteWriter& reply)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_reply_;
  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::vector<std::string>> lists_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_list_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_MANAGER_STORE_H_
