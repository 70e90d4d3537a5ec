// ManagerStore's requests that may wait: a Queue's Put and Get, a Lock's
// Acquire (and Release, which wakes), an Event's Set and Wait. A wait runs in
// the request's connection thread, in slices of kWaitSlice: between two, the
// thread lets go of the store and asks whether its client is still there, so
// no thread waits for ever on a client that has gone or a server that stops.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/fork_safety.h"
#include "api/internal/manager_store.h"

namespace mproc::internal {
namespace {

// The deadline of a wait of `timeout_us` (wire form: negative, none) capped
// by `max_wait`, from now.
absl::Time DeadlineOf(int64_t timeout_us, absl::Duration max_wait) {
  absl::Duration wait = timeout_us < 0 ? absl::InfiniteDuration()
                                       : absl::Microseconds(timeout_us);
  wait = std::min(wait, max_wait);
  if (wait == absl::InfiniteDuration()) return absl::InfiniteFuture();
  return ForkSafeNow() + wait;
}

}  // namespace

absl::Status ManagerStore::WaitThen(
    absl::Time deadline, const RequestContext& context,
    const std::function<bool()>& ready,
    const std::function<absl::Status()>& act,
    const std::function<absl::Status()>& timed_out) {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      const auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || ready();
      };
      if (!done()) {
        const absl::Duration left = deadline - ForkSafeNow();
        if (left > absl::ZeroDuration()) {
          mu_.AwaitWithTimeout(absl::Condition(&done),
                               std::min(left, kWaitSlice));
        }
      }
      if (stopping_) {
        return absl::UnavailableError(
            "the Manager is shutting down; the wait has ended");
      }
      if (ready()) return act();
      if (ForkSafeNow() >= deadline) return timed_out();
    }
    if (context.peer_gone && context.peer_gone()) {
      return absl::UnavailableError("the client hung up during the wait");
    }
  }
}

template <typename T>
absl::StatusOr<ManagerStore::Waiting<T>> ManagerStore::FindWithDeadline(
    Objects<T>& objects, ByteReader& in, absl::string_view kind,
    absl::Duration max_wait) {
  T* object = nullptr;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<T*> found = Find(objects, in, kind);
    if (!found.ok()) return found.status();
    object = *found;
  }
  absl::StatusOr<int64_t> timeout = in.GetSignedVarint();
  if (!timeout.ok()) return timeout.status();
  return Waiting<T>{object, DeadlineOf(*timeout, max_wait)};
}

absl::Status ManagerStore::ApplyBlocking(Op op, ByteReader& in,
                                         ByteWriter& reply,
                                         const RequestContext& context) {
  switch (op) {
    case Op::kQueuePut:
    case Op::kQueueGet: {
      absl::StatusOr<Waiting<Queue>> waiting =
          FindWithDeadline(queues_, in, "queue", context.max_wait);
      if (!waiting.ok()) return waiting.status();
      Queue* queue = waiting->object;
      const absl::Time deadline = waiting->deadline;
      if (op == Op::kQueuePut) {
        absl::StatusOr<absl::string_view> item = in.GetBytes();
        if (!item.ok()) return item.status();
        return WaitThen(
            deadline, context,
            [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return queue->maxsize == 0 ||
                     queue->items.size() < queue->maxsize;
            },
            [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
              queue->items.emplace_back(*item);
              return absl::OkStatus();
            },
            [] {
              return absl::DeadlineExceededError(
                  "queue is full: no room was made before the timeout");
            });
      }
      return WaitThen(
          deadline, context,
          [&]()
              ABSL_NO_THREAD_SAFETY_ANALYSIS { return !queue->items.empty(); },
          [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
            reply.PutBytes(queue->items.front());
            queue->items.pop_front();
            return absl::OkStatus();
          },
          [] {
            return absl::DeadlineExceededError(
                "queue is empty: nothing was put before the timeout");
          });
    }
    case Op::kLockAcquire: {
      absl::StatusOr<Waiting<Lock>> waiting =
          FindWithDeadline(locks_, in, "lock", context.max_wait);
      if (!waiting.ok()) return waiting.status();
      Lock* found_lock = waiting->object;
      const uint64_t me = context.connection;
      return WaitThen(
          waiting->deadline, context,
          [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return found_lock->holder == 0;
          },
          [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
            // Connection 0 (a store without a server) still holds it.
            found_lock->holder = me == 0 ? ~uint64_t{0} : me;
            reply.PutBool(true);
            if (!std::exchange(found_lock->abandoned, false)) {
              return absl::OkStatus();
            }
            return absl::AbortedError(absl::StrCat(
                "the holder of this Manager Lock (connection ",
                found_lock->abandoned_by,
                ") ended without releasing it: its process died or exited; "
                "the lock is now held by this caller, but what it guarded may "
                "be half-updated: check it, then Release"));
          },
          [&] {
            reply.PutBool(false);
            return absl::OkStatus();
          });
    }
    case Op::kLockRelease: {
      absl::MutexLock lock(&mu_);
      absl::StatusOr<Lock*> found = Find(locks_, in, "lock");
      if (!found.ok()) return found.status();
      const uint64_t me =
          context.connection == 0 ? ~uint64_t{0} : context.connection;
      if ((*found)->holder == 0) {
        return absl::FailedPreconditionError(
            "release of an unlocked Manager Lock; Release only after a "
            "successful Acquire");
      }
      if ((*found)->holder != me) {
        return absl::FailedPreconditionError(
            "this Manager Lock is held by another process (connection); only "
            "its holder may Release it");
      }
      (*found)->holder = 0;
      return absl::OkStatus();
    }
    case Op::kEventSet: {
      absl::MutexLock lock(&mu_);
      absl::StatusOr<Event*> found = Find(events_, in, "event");
      if (!found.ok()) return found.status();
      (*found)->set = true;
      return absl::OkStatus();
    }
    case Op::kEventWait: {
      absl::StatusOr<Waiting<Event>> waiting =
          FindWithDeadline(events_, in, "event", context.max_wait);
      if (!waiting.ok()) return waiting.status();
      Event* event = waiting->object;
      return WaitThen(
          waiting->deadline, context,
          [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return event->set; },
          [&] {
            reply.PutBool(true);
            return absl::OkStatus();
          },
          [&] {
            reply.PutBool(false);
            return absl::OkStatus();
          });
    }
    default:
      return absl::InvalidArgumentError("malformed request: unexpected op");
  }
}

void ManagerStore::ConnectionClosed(uint64_t connection) {
  if (connection == 0) return;
  absl::MutexLock lock(&mu_);
  for (auto& [id, held] : locks_) {
    if (held->holder != connection) continue;
    held->holder = 0;
    held->abandoned = true;
    held->abandoned_by = connection;
  }
}

void ManagerStore::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
}

}  // namespace mproc::internal
