// -----------------------------------------------------------------------------
// File: api/internal/manager_store.h
// -----------------------------------------------------------------------------
//
// Internal: what a Manager server holds (its lists, dicts, queues, locks,
// events and values) and how one request changes or reads it. No channel, no
// thread, no authentication: the server (manager_server.h) calls Apply for
// each authenticated request, and a fuzzer can call it with any bytes.

#ifndef MPROC_API_INTERNAL_MANAGER_STORE_H_
#define MPROC_API_INTERNAL_MANAGER_STORE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/internal/manager_protocol.h"
#include "api/wire.h"

namespace mproc::internal {

// Who makes a request, and how long it may wait on the store.
struct RequestContext {
  // The connection the request came on: a Lock is held by a connection, and
  // released (as abandoned) by ConnectionClosed.
  uint64_t connection = 0;
  // The longest a blocking request (QueuePut, QueueGet, LockAcquire,
  // EventWait) waits, whatever its timeout. Zero, the default: a store used
  // without a server never waits.
  absl::Duration max_wait = absl::ZeroDuration();
  // Asked between the slices of a wait (kWaitSlice), without the store's
  // lock: true when the client has hung up, and the wait ends
  // (`kUnavailable`). Empty: never.
  std::function<bool()> peer_gone;
};

// ManagerStore
//
// The shared objects of one Manager server. Thread-safe: Apply may be called
// from every connection's thread at once; a blocking request waits without
// holding the store.
class ManagerStore {
 public:
  // A blocking request looks at its connection and the store's state at
  // least this often.
  static constexpr absl::Duration kWaitSlice = absl::Milliseconds(100);

  // `max_reply` bounds the body of one reply (a Snapshot, Keys or Items that
  // does not fit is refused, not built).
  explicit ManagerStore(size_t max_reply = kMaxReplyBody)
      : max_reply_(max_reply) {}
  ManagerStore(const ManagerStore&) = delete;
  ManagerStore& operator=(const ManagerStore&) = delete;

  // Applies request `op` whose fields `in` holds (after the op), and writes
  // the result body of a synchronous op to `reply`. Never crashes on any
  // input. Errors (the request's own; the store is unchanged unless noted):
  // `kInvalidArgument` for malformed fields or Hello (the handshake is the
  // server's, not a request); `kNotFound` for an unknown id (or an id of
  // another type), a DictPop or DictErase of a missing key; `kOutOfRange` for
  // a Get index past either end; `kResourceExhausted` when the reply would
  // exceed `max_reply` bytes; `kDeadlineExceeded` for a QueuePut / QueueGet
  // whose timeout passed ("queue is full" / "queue is empty");
  // `kFailedPrecondition` for a LockRelease by a connection that does not
  // hold the lock; `kAborted` for a LockAcquire that took a lock whose
  // holder's connection ended (the caller holds it); `kUnavailable` for a
  // wait ended by Stop or by `context.peer_gone`. Extend applies the items
  // before a malformed one. Shutdown and Sync change nothing and return OK
  // (the server acts on Shutdown). Fields left unread in `in` are the
  // caller's to check.
  [[nodiscard]] absl::Status Apply(Op op, ByteReader& in, ByteWriter& reply,
                                   const RequestContext& context = {});

  // Releases every lock `connection` holds, marking each abandoned: its
  // next acquirer gets it with `kAborted`. Wakes the waiters.
  void ConnectionClosed(uint64_t connection);

  // Ends every wait, now and later, with `kUnavailable` (the server is
  // stopping).
  void Stop();

 private:
  struct Dict {
    absl::flat_hash_map<std::string, std::string> items;
  };
  struct Queue {
    uint64_t maxsize = 0;  // 0: unbounded
    std::deque<std::string> items;
  };
  struct Lock {
    uint64_t holder = 0;  // a connection; 0: free
    bool abandoned = false;
    uint64_t abandoned_by = 0;
  };
  struct Event {
    bool set = false;
  };
  struct Value {
    std::string bytes;
  };

  // Objects are held by unique_ptr so a waiter's pointer stays valid while
  // the map grows; none is ever removed.
  template <typename T>
  using Objects = absl::flat_hash_map<uint64_t, std::unique_ptr<T>>;

  // The object whose id `in` holds next; `kNotFound` naming `kind`.
  template <typename T>
  absl::StatusOr<T*> Find(Objects<T>& objects, ByteReader& in,
                          absl::string_view kind)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::StatusOr<uint64_t> id = in.GetVarint();
    if (!id.ok()) return id.status();
    auto it = objects.find(*id);
    if (it == objects.end()) {
      return absl::NotFoundError(
          absl::StrCat("the Manager has no ", kind, " ", *id));
    }
    return it->second.get();
  }
  // A blocking op's target and deadline: Find under mu_, then the signed
  // timeout that follows the id (wire form: negative, none), capped by
  // `max_wait`.
  template <typename T>
  struct Waiting {
    T* object;
    absl::Time deadline;
  };
  template <typename T>
  absl::StatusOr<Waiting<T>> FindWithDeadline(Objects<T>& objects,
                                              ByteReader& in,
                                              absl::string_view kind,
                                              absl::Duration max_wait)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ApplyToList(Op op, std::vector<std::string>& list,
                           ByteReader& in, ByteWriter& reply)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyToDict(Op op, ByteReader& in, ByteWriter& reply)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyToValue(Op op, ByteReader& in, ByteWriter& reply)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The ops that may wait (manager_store_wait.cc); called without mu_.
  absl::Status ApplyBlocking(Op op, ByteReader& in, ByteWriter& reply,
                             const RequestContext& context)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until `ready` (called under mu_) holds, then runs `act` under mu_
  // and returns its status; or returns `timed_out` past `deadline`,
  // `kUnavailable` when stopped or when the peer is gone.
  absl::Status WaitThen(absl::Time deadline, const RequestContext& context,
                        const std::function<bool()>& ready,
                        const std::function<absl::Status()>& act,
                        const std::function<absl::Status()>& timed_out)
      ABSL_LOCKS_EXCLUDED(mu_);

  const size_t max_reply_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<uint64_t, std::vector<std::string>> lists_
      ABSL_GUARDED_BY(mu_);
  Objects<Dict> dicts_ ABSL_GUARDED_BY(mu_);
  Objects<Queue> queues_ ABSL_GUARDED_BY(mu_);
  Objects<Lock> locks_ ABSL_GUARDED_BY(mu_);
  Objects<Event> events_ ABSL_GUARDED_BY(mu_);
  Objects<Value> values_ ABSL_GUARDED_BY(mu_);
  // One id space for every type.
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_MANAGER_STORE_H_
