// Registered targets on the Manager's proxies (manager_types.h).
#include "workloads/manager_types.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/context.h"

namespace mproc::workloads {

absl::Status UseEveryType(NameDict dict, QueueProxy<int64_t> queue,
                          LockProxy lock, EventProxy event,
                          ValueProxy<int64_t> value, int64_t tag) {
  if (absl::Status s = dict.Set(absl::StrCat("tag-", tag), tag); !s.ok()) {
    return s;
  }
  if (absl::Status s = queue.Put(tag); !s.ok()) return s;
  absl::StatusOr<bool> taken = lock.Acquire(absl::Seconds(30));
  if (!taken.ok()) return taken.status();
  if (!*taken) return absl::DeadlineExceededError("lock not taken in 30 s");
  absl::StatusOr<int64_t> now = value.Get();
  absl::Status set = now.ok() ? value.Set(*now + tag) : now.status();
  if (absl::Status s = lock.Release(); !s.ok()) return s;
  if (!set.ok()) return set;
  return event.Set();
}
MPROC_REGISTER_TARGET(UseEveryType);

absl::Status UseEveryTypeInGrandchild(NameDict dict, QueueProxy<int64_t> queue,
                                      LockProxy lock, EventProxy event,
                                      ValueProxy<int64_t> value, int64_t tag) {
  absl::StatusOr<Context> ctx = GetContext();
  if (!ctx.ok()) return ctx.status();
  Process child = ctx->NewProcess(
      Target(&UseEveryType, dict, queue, lock, event, value, tag + 1000));
  if (absl::Status s = child.Start(); !s.ok()) return s;
  if (absl::Status s = child.Join(); !s.ok()) return s;
  if (child.exitcode() != 0) {
    return absl::InternalError(
        absl::StrCat("grandchild exitcode ", child.exitcode().value_or(-1000)));
  }
  return UseEveryType(dict, queue, lock, event, value, tag);
}
MPROC_REGISTER_TARGET(UseEveryTypeInGrandchild);

absl::Status IncrementUnderManagerLock(LockProxy lock,
                                       ValueProxy<int64_t> value,
                                       int64_t times) {
  for (int64_t i = 0; i < times; ++i) {
    absl::StatusOr<bool> taken = lock.Acquire(absl::Seconds(30));
    if (!taken.ok()) return taken.status();
    if (!*taken) return absl::DeadlineExceededError("lock not taken in 30 s");
    absl::StatusOr<int64_t> now = value.Get();
    absl::Status set = now.ok() ? value.Set(*now + 1) : now.status();
    if (absl::Status s = lock.Release(); !s.ok()) return s;
    if (!set.ok()) return set;
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(IncrementUnderManagerLock);

absl::Status HoldManagerLockUntilKilled(LockProxy lock, EventProxy acquired,
                                        EventProxy never) {
  absl::StatusOr<bool> taken = lock.Acquire(absl::Seconds(30));
  if (!taken.ok()) return taken.status();
  if (!*taken) return absl::DeadlineExceededError("lock not taken in 30 s");
  if (absl::Status s = acquired.Set(); !s.ok()) return s;
  absl::StatusOr<bool> set = never.Wait();
  if (!set.ok()) return set.status();
  return absl::FailedPreconditionError(
      "HoldManagerLockUntilKilled: `never` was set; the test should kill this "
      "child");
}
MPROC_REGISTER_TARGET(HoldManagerLockUntilKilled);

absl::Status ReportRelease(LockProxy lock, ValueProxy<int64_t> code) {
  const absl::Status released = lock.Release();
  return code.Set(static_cast<int64_t>(released.code()));
}
MPROC_REGISTER_TARGET(ReportRelease);

absl::Status SetWhenSignalled(EventProxy go, EventProxy done,
                              int64_t timeout_ms) {
  absl::StatusOr<bool> came = go.Wait(absl::Milliseconds(timeout_ms));
  if (!came.ok()) return came.status();
  if (!*came) return absl::OkStatus();
  return done.Set();
}
MPROC_REGISTER_TARGET(SetWhenSignalled);

absl::Status PutCount(QueueProxy<int64_t> queue, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    if (absl::Status s = queue.Put(i, absl::Seconds(30)); !s.ok()) return s;
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(PutCount);

absl::Status FillDictFromPipe(Connection connection) {
  absl::StatusOr<NameDict> dict = connection.Recv<NameDict>();
  if (!dict.ok()) return dict.status();
  if (absl::Status s = dict->SetSync("from-pipe", 42); !s.ok()) return s;
  absl::StatusOr<int64_t> size = dict->Size();
  if (!size.ok()) return size.status();
  return connection.Send(*size);
}
MPROC_REGISTER_TARGET(FillDictFromPipe);

absl::Status FillQueueFromQueue(QueueProxy<QueueProxy<int64_t>> inbox,
                                int64_t count) {
  absl::StatusOr<QueueProxy<int64_t>> queue = inbox.Get(absl::Seconds(30));
  if (!queue.ok()) return queue.status();
  return PutCount(*queue, count);
}
MPROC_REGISTER_TARGET(FillQueueFromQueue);

}  // namespace mproc::workloads
