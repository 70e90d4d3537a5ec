// Shared state across processes (api/synchronize.h): every primitive from
// children, holders that die, and primitives passed on to grandchildren.
#include "workloads/shared_state.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/cancellation.h"
#include "api/synchronize.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/status_matchers.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::HoldsValue;
using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kProcesses = 4;
constexpr absl::Duration kWait = absl::Seconds(30);

constexpr int64_t kIncrements = 10'000;

TEST_P(ConformanceTest, ValueUnderItsLockCountsEveryIncrement) {
  ASSERT_OK_AND_ASSIGN(Value<int64_t> total, Value<int64_t>::Create(ctx(), 0));
  std::vector<TargetCall> targets(
      kProcesses, Target(&workloads::IncrementUnderLock, total, kIncrements));
  std::vector<Process> processes = StartAll(targets);
  JoinAllSucceeded(processes);
  EXPECT_THAT(total.Get(), HoldsValue(kProcesses * kIncrements));
}

TEST_P(ConformanceTest, WithoutTheLockIncrementsAreLost) {
  MPROC_REQUIRE_CAPABILITY(memory_isolation);  // real processes run at once
  // The processes meet at a Barrier before they increment, so they run at
  // once however slowly the OS starts them, and each runs for several
  // scheduler slices: a try loses increments with high probability, and five
  // tries make a false pass (none lost in any) practically impossible.
  constexpr int64_t kRacyIncrements = 2'000'000;
  bool lost = false;
  for (int attempt = 0; attempt < 5 && !lost; ++attempt) {
    ASSERT_OK_AND_ASSIGN(RawValue<int64_t> total,
                         RawValue<int64_t>::Create(ctx(), 0));
    ASSERT_OK_AND_ASSIGN(Barrier start, Barrier::Create(ctx(), kProcesses));
    std::vector<TargetCall> targets(
        kProcesses, Target(&workloads::IncrementWithoutLock, total,
                           kRacyIncrements, start));
    std::vector<Process> processes = StartAll(targets);
    JoinAllSucceeded(processes);
    EXPECT_LE(total.Load(), kProcesses * kRacyIncrements);
    lost = total.Load() < kProcesses * kRacyIncrements;
  }
  EXPECT_TRUE(lost) << "no increment was ever lost: is the memory shared?";
}

TEST_P(ConformanceTest, LockAcquireTimesOutAndReleaseChecksItsState) {
  ASSERT_OK_AND_ASSIGN(Lock lock, Lock::Create(ctx()));
  EXPECT_THAT(lock.Acquire(), HoldsValue(true));
  EXPECT_THAT(lock.Acquire(absl::ZeroDuration()), HoldsValue(false));
  EXPECT_THAT(lock.Acquire(absl::Milliseconds(20)), HoldsValue(false));
  EXPECT_OK(lock.Release());
  EXPECT_THAT(lock.Release(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                       HasSubstr("released too many times")));
  EXPECT_THAT(lock.Acquire(absl::ZeroDuration()), HoldsValue(true));
  EXPECT_OK(lock.Release());
}

TEST_P(ConformanceTest, RLockIsRecursiveAndOwnedByItsThread) {
  ASSERT_OK_AND_ASSIGN(RLock lock, RLock::Create(ctx()));
  EXPECT_THAT(lock.Release(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                       HasSubstr("not owned")));
  for (int i = 0; i < 3; ++i) EXPECT_THAT(lock.Acquire(), HoldsValue(true));
  EXPECT_TRUE(lock.HeldByCaller());
  Process child = RunToEnd(Target(&workloads::ReleaseForeignRLock, lock));
  EXPECT_EQ(child.exitcode(), 0);
  for (int i = 0; i < 3; ++i) EXPECT_OK(lock.Release());
  EXPECT_FALSE(lock.HeldByCaller());
  EXPECT_THAT(lock.Release(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(ConformanceTest, SemaphoreCountsAndBoundedSemaphoreRefusesExtraRelease) {
  ASSERT_OK_AND_ASSIGN(Semaphore sem, Semaphore::Create(ctx(), 2));
  EXPECT_EQ(sem.GetValue(), 2);
  EXPECT_THAT(sem.Acquire(), HoldsValue(true));
  EXPECT_THAT(sem.Acquire(), HoldsValue(true));
  EXPECT_THAT(sem.Acquire(absl::Milliseconds(20)), HoldsValue(false));
  EXPECT_OK(sem.Release());
  EXPECT_OK(sem.Release());
  EXPECT_OK(sem.Release());  // unbounded: above the initial value is fine
  EXPECT_EQ(sem.GetValue(), 3);
  EXPECT_THAT(Semaphore::Create(ctx(), -1),
              StatusIs(absl::StatusCode::kInvalidArgument));

  ASSERT_OK_AND_ASSIGN(BoundedSemaphore bounded,
                       BoundedSemaphore::Create(ctx(), 1));
  EXPECT_THAT(bounded.Release(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("released too many times")));
  EXPECT_THAT(bounded.Acquire(), HoldsValue(true));
  EXPECT_OK(bounded.Release());
}

TEST_P(ConformanceTest, SemaphoreBoundsHowManyProcessesAreInside) {
  ASSERT_OK_AND_ASSIGN(Semaphore slots, Semaphore::Create(ctx(), 2));
  ASSERT_OK_AND_ASSIGN(RawValue<int64_t> inside,
                       RawValue<int64_t>::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(RawValue<int64_t> over,
                       RawValue<int64_t>::Create(ctx()));
  std::vector<TargetCall> targets(
      kProcesses,
      Target(&workloads::UseSemaphore, slots, inside, over, 2, 2000));
  std::vector<Process> processes = StartAll(targets);
  JoinAllSucceeded(processes);
  EXPECT_EQ(over.Load(), 0);
  EXPECT_EQ(inside.Load(), 0);
  EXPECT_EQ(slots.GetValue(), 2);
}

TEST_P(ConformanceTest, EventSetClearAndWait) {
  ASSERT_OK_AND_ASSIGN(Event go, Event::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Event done, Event::Create(ctx()));
  EXPECT_FALSE(go.IsSet());
  EXPECT_THAT(go.Wait(absl::ZeroDuration()), HoldsValue(false));
  EXPECT_THAT(go.Wait(absl::Milliseconds(20)), HoldsValue(false));
  Process child = ctx().NewProcess(Target(&workloads::WaitThenSet, go, done));
  ASSERT_OK(child.Start());
  EXPECT_THAT(done.Wait(absl::Milliseconds(50)), HoldsValue(false));
  ASSERT_OK(go.Set());
  EXPECT_TRUE(go.IsSet());
  EXPECT_THAT(done.Wait(kDeadline), HoldsValue(true));
  EXPECT_THAT(go.Wait(), HoldsValue(true));  // stays set
  go.Clear();
  EXPECT_FALSE(go.IsSet());
  ASSERT_OK(child.Join(kDeadline));
  EXPECT_EQ(child.exitcode(), 0);
}

TEST_P(ConformanceTest, ConditionNotifyWakesOneNotifyAllWakesTheRest) {
  ASSERT_OK_AND_ASSIGN(Condition cond, Condition::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(RawValue<int64_t> waiting,
                       RawValue<int64_t>::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(RawValue<int64_t> woken,
                       RawValue<int64_t>::Create(ctx()));
  EXPECT_THAT(cond.Wait(absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("un-acquired lock")));
  EXPECT_THAT(cond.Notify(), StatusIs(absl::StatusCode::kFailedPrecondition));
  const int64_t timeout_millis = absl::ToInt64Milliseconds(kDeadline);
  std::vector<TargetCall> targets(3, Target(&workloads::WaitForNotify, cond,
                                            waiting, woken, timeout_millis));
  std::vector<Process> processes = StartAll(targets);
  // All three are waiting once each counted itself and released the lock.
  ASSERT_OK(cond.Acquire().status());
  // (The children do not notify: poll, releasing the lock between looks.)
  for (int i = 0; i < 3000 && waiting.Load() < 3; ++i) {
    ASSERT_OK(cond.Wait(absl::Milliseconds(10)).status());
  }
  ASSERT_EQ(waiting.Load(), 3);
  ASSERT_OK(cond.Notify(1));
  ASSERT_OK(cond.Release());
  // Exactly one wakes: the others stay asleep until NotifyAll.
  ASSERT_OK(cond.Acquire().status());
  for (int i = 0; i < 100 && woken.Load() < 1; ++i) {
    ASSERT_OK(cond.Wait(absl::Milliseconds(10)).status());
  }
  EXPECT_EQ(woken.Load(), 1);
  ASSERT_OK(cond.Wait(absl::Milliseconds(100)).status());
  EXPECT_EQ(woken.Load(), 1);
  ASSERT_OK(cond.NotifyAll());
  ASSERT_OK(cond.Release());
  JoinAllSucceeded(processes);
  EXPECT_EQ(woken.Load(), 3);
}

TEST_P(ConformanceTest, ConditionWaitForTimesOutWithFalse) {
  ASSERT_OK_AND_ASSIGN(Lock lock, Lock::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Condition cond, Condition::Create(ctx(), lock));
  ASSERT_OK(cond.Acquire().status());
  EXPECT_THAT(cond.Wait(absl::Milliseconds(20)), HoldsValue(false));
  int calls = 0;
  EXPECT_THAT(
      cond.WaitFor([&] { return ++calls > 1000000; }, absl::Milliseconds(30)),
      HoldsValue(false));
  EXPECT_GE(calls, 2);
  // The condition's lock is `lock`: held now, so not free.
  EXPECT_THAT(lock.Acquire(absl::ZeroDuration()), HoldsValue(false));
  ASSERT_OK(cond.Release());
  EXPECT_THAT(lock.Acquire(absl::ZeroDuration()), HoldsValue(true));
  ASSERT_OK(lock.Release());
}

TEST_P(ConformanceTest, BarrierHoldsFourPartiesForAHundredRounds) {
  constexpr int64_t kRounds = 100;
  ASSERT_OK_AND_ASSIGN(Barrier barrier, Barrier::Create(ctx(), kProcesses));
  ASSERT_OK_AND_ASSIGN(RawArray<int64_t> arrived,
                       RawArray<int64_t>::Create(ctx(), kRounds));
  std::vector<TargetCall> targets(
      kProcesses, Target(&workloads::BarrierRounds, barrier, arrived, kRounds));
  std::vector<Process> processes = StartAll(targets);
  JoinAllSucceeded(processes);
  for (int64_t round = 0; round < kRounds; ++round) {
    EXPECT_EQ(arrived.Load(round), kProcesses);
  }
  EXPECT_THAT(barrier.Broken(), HoldsValue(false));
  EXPECT_THAT(Barrier::Create(ctx(), 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(ConformanceTest, BarrierTimeoutAndAbortBreakItUntilReset) {
  ASSERT_OK_AND_ASSIGN(Barrier barrier, Barrier::Create(ctx(), 2));
  EXPECT_THAT(
      barrier.Wait(absl::Milliseconds(20)),
      StatusIs(absl::StatusCode::kAborted, HasSubstr("broken barrier")));
  EXPECT_THAT(barrier.Broken(), HoldsValue(true));
  EXPECT_THAT(barrier.Wait(), StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK(barrier.Reset());
  EXPECT_THAT(barrier.Broken(), HoldsValue(false));
  ASSERT_OK(barrier.Abort());
  EXPECT_THAT(barrier.Wait(), StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK(barrier.Reset());
  ASSERT_OK_AND_ASSIGN(Barrier single, Barrier::Create(ctx(), 1));
  EXPECT_THAT(single.Wait(), HoldsValue(0));
}

TEST_P(ConformanceTest, ArrayIsFilledByChildren) {
  constexpr int64_t kSize = 1000;
  ASSERT_OK_AND_ASSIGN(Array<double> out, Array<double>::Create(ctx(), kSize));
  EXPECT_EQ(out.size(), static_cast<size_t>(kSize));
  std::vector<TargetCall> targets;
  for (int64_t i = 0; i < kProcesses; ++i) {
    targets.push_back(Target(&workloads::FillArray, out, i * kSize / kProcesses,
                             (i + 1) * kSize / kProcesses));
  }
  std::vector<Process> processes = StartAll(targets);
  JoinAllSucceeded(processes);
  ASSERT_OK_AND_ASSIGN(std::vector<double> all, out.Snapshot());
  for (int64_t i = 0; i < kSize; ++i) EXPECT_EQ(all[i], i * 0.5) << i;
  EXPECT_THAT(out.Get(kSize), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(out.Set(kSize, 1.0), StatusIs(absl::StatusCode::kOutOfRange));
}

// Starts `target` (which takes the lock and sets `held`), kills it while it
// holds the lock, and joins it.
void KillWhileHolding(const Context& ctx, TargetCall target,
                      const Event& held) {
  Process holder = ctx.NewProcess(std::move(target));
  ASSERT_OK(holder.Start());
  ASSERT_THAT(held.Wait(kWait), HoldsValue(true));
  ASSERT_OK(holder.Kill());
  ASSERT_OK(holder.Join(kWait));
  EXPECT_EQ(holder.exitcode(), -9);
}

TEST_P(ConformanceTest, ALockWhoseHolderDiedIsTakenWithAborted) {
  ASSERT_OK_AND_ASSIGN(Lock lock, Lock::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Event held, Event::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Event never, Event::Create(ctx()));
  KillWhileHolding(
      ctx(), Target(&workloads::HoldLockUntilKilled, lock, held, never), held);
  EXPECT_THAT(lock.Acquire(kDeadline),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("died")));
  // The caller holds it now, and it works as before.
  EXPECT_THAT(lock.Acquire(absl::ZeroDuration()), HoldsValue(false));
  EXPECT_OK(lock.Release());
  EXPECT_THAT(lock.Acquire(absl::ZeroDuration()), HoldsValue(true));
  EXPECT_OK(lock.Release());
}

TEST_P(ConformanceTest, AnRLockWhoseHolderDiedIsTakenWithAborted) {
  ASSERT_OK_AND_ASSIGN(RLock lock, RLock::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Event held, Event::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Event never, Event::Create(ctx()));
  KillWhileHolding(
      ctx(), Target(&workloads::HoldRLockUntilKilled, lock, held, never), held);
  EXPECT_THAT(lock.Acquire(kDeadline),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("died")));
  EXPECT_TRUE(lock.HeldByCaller());
  EXPECT_OK(lock.Release());  // depth 1: the dead holder's depth is gone
  EXPECT_FALSE(lock.HeldByCaller());
}

TEST_P(ConformanceTest, ABarrierPartyKilledWhileWaitingBreaksIt) {
  ASSERT_OK_AND_ASSIGN(Barrier barrier, Barrier::Create(ctx(), 3));
  Process party = ctx().NewProcess(Target(&workloads::WaitAtBarrier, barrier));
  ASSERT_OK(party.Start());
  ASSERT_TRUE([&] {
    for (;;) {
      absl::StatusOr<int64_t> n = barrier.NWaiting();
      if (!n.ok() || *n == 1) return n.ok();
      Sleep(absl::Milliseconds(1));
    }
  }());
  ASSERT_OK(party.Kill());
  ASSERT_OK(party.Join(kDeadline));
  // Two parties of three: without the check this would wait for ever.
  EXPECT_THAT(barrier.Wait(kDeadline),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("died")));
}

TEST_P(ConformanceTest, PrimitivesReachGrandchildren) {
  ASSERT_OK_AND_ASSIGN(Value<int64_t> total, Value<int64_t>::Create(ctx(), 5));
  Process child =
      RunToEnd(Target(&workloads::IncrementInGrandchild, total, int64_t{1000}));
  EXPECT_EQ(child.exitcode(), 0);
  EXPECT_THAT(total.Get(), HoldsValue(1005));
  ASSERT_OK(total.Set(7));
  EXPECT_THAT(total.Get(), HoldsValue(7));
}

TEST_P(ConformanceTest, APrimitiveEncodedOutsideATargetCannotBeDecoded) {
  ASSERT_OK_AND_ASSIGN(Lock lock, Lock::Create(ctx()));
  // As a Manager list would encode it: no launch carries its OS objects.
  const std::string bytes = EncodeValue(lock);
  EXPECT_THAT(DecodeValue<Lock>(bytes),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("as a target argument")));
}

TEST_P(ConformanceTest, AChildBlockedInAcquireCanBeTerminated) {
  ASSERT_OK_AND_ASSIGN(Lock lock, Lock::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Event started, Event::Create(ctx()));
  ASSERT_THAT(lock.Acquire(), HoldsValue(true));
  Process child =
      ctx().NewProcess(Target(&workloads::SignalThenAcquire, started, lock));
  ASSERT_OK(child.Start());
  ASSERT_THAT(started.Wait(kWait), HoldsValue(true));
  // Blocked in Acquire (or about to be): a cancellation point on the thread
  // backend, a plain signal elsewhere.
  ASSERT_OK(child.Terminate());
  ASSERT_OK(child.Join(kWait));
  EXPECT_EQ(child.exitcode(), -15);
  EXPECT_OK(lock.Release());
}

TEST_P(ConformanceTest, AClosureMayCaptureAPrimitive) {
  if (!ctx().start_method().runs_closures) {
    GTEST_SKIP() << ctx().name() << " runs registered targets only";
  }
  ASSERT_OK_AND_ASSIGN(Value<int64_t> total, Value<int64_t>::Create(ctx(), 0));
  Process child = RunToEnd(
      Target([total] { return workloads::IncrementUnderLock(total, 100); }));
  EXPECT_EQ(child.exitcode(), 0);
  EXPECT_THAT(total.Get(), HoldsValue(100));
}

}  // namespace
}  // namespace mproc::conformance
