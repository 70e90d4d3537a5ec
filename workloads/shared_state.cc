// Registered targets on shared-state primitives (shared_state.h).
#include "workloads/shared_state.h"

#include "absl/strings/str_cat.h"
#include "api/context.h"

namespace mproc::workloads {

absl::Status IncrementUnderLock(Value<int64_t> total, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    absl::StatusOr<bool> locked = total.GetLock().Acquire();
    if (!locked.ok()) return locked.status();
    *total.get() += 1;
    if (absl::Status s = total.GetLock().Release(); !s.ok()) return s;
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(IncrementUnderLock);

absl::Status IncrementWithoutLock(RawValue<int64_t> total, int64_t count,
                                  Barrier start) {
  // Bounded: a party that never starts breaks the barrier for the others.
  if (absl::Status s = start.Wait(absl::Minutes(1)).status(); !s.ok()) {
    return s;
  }
  for (int64_t i = 0; i < count; ++i) total.Store(total.Load() + 1);
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(IncrementWithoutLock);

absl::Status IncrementInGrandchild(Value<int64_t> total, int64_t count) {
  absl::StatusOr<Context> ctx = GetContext();
  if (!ctx.ok()) return ctx.status();
  Process child = ctx->NewProcess(Target(&IncrementUnderLock, total, count));
  if (absl::Status s = child.Start(); !s.ok()) return s;
  if (absl::Status s = child.Join(); !s.ok()) return s;
  if (child.exitcode() != 0) {
    return absl::InternalError(
        absl::StrCat("the grandchild ended with ", *child.exitcode()));
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(IncrementInGrandchild);

absl::Status HoldLockUntilKilled(Lock lock, Event held, Event never) {
  absl::StatusOr<bool> locked = lock.Acquire();
  if (!locked.ok()) return locked.status();
  if (absl::Status s = held.Set(); !s.ok()) return s;
  return never.Wait().status();
}
MPROC_REGISTER_TARGET(HoldLockUntilKilled);

absl::Status HoldRLockUntilKilled(RLock lock, Event held, Event never) {
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<bool> locked = lock.Acquire();
    if (!locked.ok()) return locked.status();
  }
  if (absl::Status s = held.Set(); !s.ok()) return s;
  return never.Wait().status();
}
MPROC_REGISTER_TARGET(HoldRLockUntilKilled);

absl::Status ReleaseForeignRLock(RLock lock) {
  absl::Status released = lock.Release();
  if (!absl::IsFailedPrecondition(released)) {
    return absl::InternalError(absl::StrCat(
        "releasing another process's RLock gave ", released.ToString()));
  }
  absl::StatusOr<bool> got = lock.Acquire(absl::ZeroDuration());
  if (!got.ok()) return got.status();
  if (*got) return absl::InternalError("took an RLock another process holds");
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(ReleaseForeignRLock);

absl::Status FillArray(Array<double> out, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    if (absl::Status s = out.Set(static_cast<size_t>(i), i * 0.5); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(FillArray);

absl::Status BarrierRounds(Barrier barrier, RawArray<int64_t> arrived,
                           int64_t rounds) {
  for (int64_t round = 0; round < rounds; ++round) {
    arrived.FetchAdd(static_cast<size_t>(round), 1);
    absl::StatusOr<int64_t> index = barrier.Wait(absl::Seconds(60));
    if (!index.ok()) return index.status();
    const int64_t seen = arrived.Load(static_cast<size_t>(round));
    if (seen != barrier.parties()) {
      return absl::InternalError(absl::StrCat("round ", round, ": left with ",
                                              seen, " of ", barrier.parties(),
                                              " parties arrived"));
    }
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(BarrierRounds);

absl::Status WaitAtBarrier(Barrier barrier) { return barrier.Wait().status(); }
MPROC_REGISTER_TARGET(WaitAtBarrier);

absl::Status SignalThenAcquire(Event started, Lock lock) {
  if (absl::Status s = started.Set(); !s.ok()) return s;
  absl::StatusOr<bool> locked = lock.Acquire();
  if (!locked.ok()) return locked.status();
  return lock.Release();
}
MPROC_REGISTER_TARGET(SignalThenAcquire);

absl::Status WaitThenSet(Event go, Event done) {
  absl::StatusOr<bool> woke = go.Wait();
  if (!woke.ok()) return woke.status();
  return done.Set();
}
MPROC_REGISTER_TARGET(WaitThenSet);

absl::Status WaitForNotify(Condition cond, RawValue<int64_t> waiting,
                           RawValue<int64_t> woken, int64_t timeout_millis) {
  absl::StatusOr<bool> locked = cond.Acquire();
  if (!locked.ok()) return locked.status();
  waiting.FetchAdd(1);
  absl::StatusOr<bool> notified = cond.Wait(absl::Milliseconds(timeout_millis));
  if (notified.ok() && *notified) woken.FetchAdd(1);
  if (absl::Status s = cond.Release(); !s.ok()) return s;
  return notified.status();
}
MPROC_REGISTER_TARGET(WaitForNotify);

absl::Status UseSemaphore(Semaphore slots, RawValue<int64_t> inside,
                          RawValue<int64_t> over, int64_t bound,
                          int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    absl::StatusOr<bool> got = slots.Acquire();
    if (!got.ok()) return got.status();
    if (inside.FetchAdd(1) + 1 > bound) over.FetchAdd(1);
    inside.FetchAdd(-1);
    if (absl::Status s = slots.Release(); !s.ok()) return s;
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(UseSemaphore);

}  // namespace mproc::workloads
