// -----------------------------------------------------------------------------
// File: api/manager_sync.h
// -----------------------------------------------------------------------------
//
// LockProxy and EventProxy: a lock and an event held by a Manager
// (api/manager.h), as CPython's SyncManager.Lock() and Event(). Unlike
// api/lock.h and api/event.h (shared memory, for children a process starts),
// these reach any process that is handed the proxy, running or not.
//
// Waits (Acquire, Wait) happen on the server, in the thread that serves the
// caller's connection; while one waits, the calling process's other calls
// to that Manager wait for it (a process has one connection to a Manager).

#ifndef MPROC_API_MANAGER_SYNC_H_
#define MPROC_API_MANAGER_SYNC_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/codec.h"
#include "api/internal/manager_proxy.h"

namespace mproc {

class Manager;

// LockProxy
//
// A non-recursive lock of a Manager, held by a *process* (its connection to
// the Manager), not by a thread. Copyable and cheap; a target argument and
// a message (it has a Codec). Errors of every call as the Manager's proxies
// (api/manager.h), and those listed.
//
// Safer than CPython's: when the process holding the lock ends (or its
// connection to the Manager breaks) without releasing it, the server
// releases it, and the next Acquire gets the lock *and* `kAborted` saying
// so, as api/lock.h's Lock.
class LockProxy {
 public:
  // An unbound proxy: every call returns `kFailedPrecondition`.
  LockProxy() = default;

  // Takes the lock, waiting up to `timeout` (InfiniteDuration: for ever;
  // zero or less: not at all). true: taken; false: the timeout passed (not
  // an error, as CPython). `kAborted`: its holder ended without releasing
  // it; the caller now holds the lock (check what it guarded, then Release).
  // A process that holds the lock and acquires it again waits (until the
  // timeout).
  [[nodiscard]] absl::StatusOr<bool> Acquire(
      absl::Duration timeout = absl::InfiniteDuration()) const;

  // Frees the lock. `kFailedPrecondition` when it is not held, or is held by
  // another process.
  [[nodiscard]] absl::Status Release() const;

 private:
  friend class Manager;
  friend struct Codec<LockProxy>;
  explicit LockProxy(internal::ProxyHandle handle)
      : handle_(std::move(handle)) {}

  internal::ProxyHandle handle_;
};

// EventProxy
//
// A flag of a Manager that Set raises, Clear lowers, and Wait waits for.
// Copyable and cheap; a target argument and a message (it has a Codec).
// Errors of every call as the Manager's proxies (api/manager.h).
class EventProxy {
 public:
  // An unbound proxy: every call returns `kFailedPrecondition`.
  EventProxy() = default;

  // True when the flag is raised.
  [[nodiscard]] absl::StatusOr<bool> IsSet() const;
  // Raises the flag and wakes every waiter.
  [[nodiscard]] absl::Status Set() const;
  // Lowers the flag.
  [[nodiscard]] absl::Status Clear() const;
  // Returns true once the flag is raised, false when `timeout` passes first
  // (not an error). InfiniteDuration: waits for ever; zero or less: does
  // not wait.
  [[nodiscard]] absl::StatusOr<bool> Wait(
      absl::Duration timeout = absl::InfiniteDuration()) const;

 private:
  friend class Manager;
  friend struct Codec<EventProxy>;
  explicit EventProxy(internal::ProxyHandle handle)
      : handle_(std::move(handle)) {}

  internal::ProxyHandle handle_;
};

template <>
struct Codec<LockProxy> {
  static void Encode(const LockProxy& proxy, ByteWriter& out) {
    proxy.handle_.Encode(out);
  }
  [[nodiscard]] static absl::StatusOr<LockProxy> Decode(ByteReader& in) {
    absl::StatusOr<internal::ProxyHandle> handle =
        internal::ProxyHandle::Decode(in);
    if (!handle.ok()) return handle.status();
    return LockProxy(*std::move(handle));
  }
};

template <>
struct Codec<EventProxy> {
  static void Encode(const EventProxy& proxy, ByteWriter& out) {
    proxy.handle_.Encode(out);
  }
  [[nodiscard]] static absl::StatusOr<EventProxy> Decode(ByteReader& in) {
    absl::StatusOr<internal::ProxyHandle> handle =
        internal::ProxyHandle::Decode(in);
    if (!handle.ok()) return handle.status();
    return EventProxy(*std::move(handle));
  }
};

}  // namespace mproc

#endif  // MPROC_API_MANAGER_SYNC_H_
