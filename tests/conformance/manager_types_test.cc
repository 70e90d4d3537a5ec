// The Manager's dict, queue, lock, event and value proxies (issue 12 part 3,
// docs/design.md §11): semantics, use from children and grandchildren,
// proxies handed to running processes, a lock holder that dies.
#include "workloads/manager_types.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "api/manager.h"
#include "api/pipe.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/status_matchers.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using workloads::NameDict;

TEST_P(ConformanceTest, ManagerDictSemantics) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(NameDict dict, (manager.Dict<std::string, int64_t>()));
  EXPECT_EQ(*dict.Size(), 0);
  EXPECT_THAT(dict.Get("a"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no such key")));
  EXPECT_EQ(*dict.GetOr("a", -1), -1);
  ASSERT_OK(dict.Set("a", 1));  // pipelined
  ASSERT_OK(dict.SetSync("b", 2));
  ASSERT_OK(dict.Set("a", 10));  // overwrite
  EXPECT_EQ(*dict.Get("a"), 10);
  EXPECT_EQ(*dict.GetOr("b", -1), 2);
  EXPECT_TRUE(*dict.Contains("b"));
  EXPECT_FALSE(*dict.Contains("c"));
  EXPECT_EQ(*dict.Size(), 2);
  EXPECT_THAT(*dict.Keys(), UnorderedElementsAre("a", "b"));
  EXPECT_THAT(*dict.Items(), UnorderedElementsAre(Pair("a", 10), Pair("b", 2)));
  EXPECT_EQ(*dict.Pop("a"), 10);
  EXPECT_THAT(dict.Pop("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(dict.Erase("a"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(dict.Erase("b"));
  EXPECT_EQ(*dict.Size(), 0);
  for (int64_t i = 0; i < 1000; ++i) ASSERT_OK(dict.Set(std::to_string(i), i));
  EXPECT_EQ(*dict.Size(), 1000);
  EXPECT_EQ(*dict.Get("999"), 999);
  ASSERT_OK(dict.Clear());
  EXPECT_EQ(*dict.Size(), 0);
  // Keys of another type: compared by their encoded bytes.
  using NumberDict = DictProxy<int64_t, std::vector<int>>;
  ASSERT_OK_AND_ASSIGN(NumberDict by_number,
                       (manager.Dict<int64_t, std::vector<int>>()));
  ASSERT_OK(by_number.Set(-5, {1, 2}));
  EXPECT_THAT(*by_number.Get(-5), ElementsAre(1, 2));
  EXPECT_THAT(by_number.Get(5), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ManagerValueAndEventAndQueueSemantics) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ValueProxy<std::string> value,
                       manager.Value<std::string>("first"));
  EXPECT_EQ(*value.Get(), "first");
  ASSERT_OK(value.Set("second"));
  EXPECT_EQ(*value.Get(), "second");
  ASSERT_OK(value.SetPipelined("third"));
  EXPECT_EQ(*value.Get(), "third");

  ASSERT_OK_AND_ASSIGN(EventProxy event, manager.Event());
  EXPECT_FALSE(*event.IsSet());
  EXPECT_FALSE(*event.Wait(absl::ZeroDuration()));
  const absl::Time before = absl::Now();
  EXPECT_FALSE(*event.Wait(absl::Milliseconds(50)));
  EXPECT_GE(absl::Now() - before, absl::Milliseconds(50));
  ASSERT_OK(event.Set());
  EXPECT_TRUE(*event.IsSet());
  EXPECT_TRUE(*event.Wait());
  ASSERT_OK(event.Clear());
  EXPECT_FALSE(*event.IsSet());

  ASSERT_OK_AND_ASSIGN(QueueProxy<int64_t> queue, manager.Queue<int64_t>(2));
  EXPECT_TRUE(*queue.Empty());
  EXPECT_THAT(queue.Get(absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("queue is empty")));
  const absl::Time get_start = absl::Now();
  EXPECT_THAT(queue.Get(absl::Milliseconds(50)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_GE(absl::Now() - get_start, absl::Milliseconds(50));
  ASSERT_OK(queue.Put(1));
  ASSERT_OK(queue.Put(2));
  EXPECT_EQ(*queue.QSize(), 2);
  EXPECT_THAT(queue.Put(3, absl::Milliseconds(50)),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("queue is full")));
  EXPECT_EQ(*queue.Get(), 1);
  ASSERT_OK(queue.Put(3, absl::ZeroDuration()));
  EXPECT_EQ(*queue.Get(), 2);
  EXPECT_EQ(*queue.Get(), 3);
  EXPECT_TRUE(*queue.Empty());

  ASSERT_OK_AND_ASSIGN(LockProxy lock, manager.Lock());
  EXPECT_THAT(lock.Release(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(*lock.Acquire());
  EXPECT_FALSE(*lock.Acquire(absl::Milliseconds(20)));  // not recursive
  ASSERT_OK(lock.Release());
  EXPECT_TRUE(*lock.Acquire(absl::ZeroDuration()));
  ASSERT_OK(lock.Release());
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, UnboundManagerProxiesFail) {
  EXPECT_THAT((NameDict().Get("a")),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(QueueProxy<int64_t>().Put(1),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(LockProxy().Acquire(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(EventProxy().Set(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(ValueProxy<int64_t>().Get(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(ConformanceTest, EveryManagerTypeWorksInChildrenAndGrandchildren) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(NameDict dict, (manager.Dict<std::string, int64_t>()));
  ASSERT_OK_AND_ASSIGN(QueueProxy<int64_t> queue, manager.Queue<int64_t>());
  ASSERT_OK_AND_ASSIGN(LockProxy lock, manager.Lock());
  ASSERT_OK_AND_ASSIGN(EventProxy event, manager.Event());
  ASSERT_OK_AND_ASSIGN(ValueProxy<int64_t> value, manager.Value<int64_t>(0));
  ASSERT_OK(dict.Set("parent", -1));  // before Start: the children see it
  std::vector<Process> children;
  for (int64_t tag = 1; tag <= 2; ++tag) {
    children.push_back(
        ctx().NewProcess(Target(&workloads::UseEveryTypeInGrandchild, dict,
                                queue, lock, event, value, tag)));
    ASSERT_OK(children.back().Start());
  }
  for (Process& child : children) {
    ASSERT_OK(child.Join(kDeadline));
    EXPECT_EQ(child.exitcode(), 0);
  }
  EXPECT_EQ(*dict.Size(), 5);
  for (int64_t tag : {1, 2, 1001, 1002}) {
    EXPECT_EQ(*dict.Get(absl::StrCat("tag-", tag)), tag);
  }
  std::vector<int64_t> got;
  for (int i = 0; i < 4; ++i) got.push_back(*queue.Get(absl::ZeroDuration()));
  EXPECT_THAT(got, UnorderedElementsAre(1, 2, 1001, 1002));
  EXPECT_TRUE(*queue.Empty());
  EXPECT_EQ(*value.Get(), 1 + 2 + 1001 + 1002);
  EXPECT_TRUE(*event.IsSet());
  EXPECT_TRUE(*lock.Acquire(absl::ZeroDuration()));
  ASSERT_OK(lock.Release());
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ManagerLockMakesIncrementsExact) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(LockProxy lock, manager.Lock());
  ASSERT_OK_AND_ASSIGN(ValueProxy<int64_t> value, manager.Value<int64_t>(0));
  constexpr int kChildren = 4;
  constexpr int64_t kTimes = 50;
  std::vector<Process> children;
  for (int c = 0; c < kChildren; ++c) {
    children.push_back(ctx().NewProcess(
        Target(&workloads::IncrementUnderManagerLock, lock, value, kTimes)));
    ASSERT_OK(children.back().Start());
  }
  for (Process& child : children) {
    ASSERT_OK(child.Join(kDeadline));
    EXPECT_EQ(child.exitcode(), 0);
  }
  EXPECT_EQ(*value.Get(), kChildren * kTimes);
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ManagerLockOfAKilledHolderGoesToTheNextAcquirer) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(LockProxy lock, manager.Lock());
  ASSERT_OK_AND_ASSIGN(EventProxy acquired, manager.Event());
  ASSERT_OK_AND_ASSIGN(EventProxy never, manager.Event());
  ASSERT_OK_AND_ASSIGN(ValueProxy<int64_t> code, manager.Value<int64_t>(-1));
  Process holder = ctx().NewProcess(
      Target(&workloads::HoldManagerLockUntilKilled, lock, acquired, never));
  ASSERT_OK(holder.Start());
  ASSERT_TRUE(*acquired.Wait(kDeadline));
  // Another process may not release it.
  Process other = RunToEnd(Target(&workloads::ReportRelease, lock, code));
  EXPECT_EQ(other.exitcode(), 0);
  EXPECT_EQ(*code.Get(),
            static_cast<int64_t>(absl::StatusCode::kFailedPrecondition));
  EXPECT_FALSE(*lock.Acquire(absl::Milliseconds(20)));
  ASSERT_OK(holder.Kill());
  ASSERT_OK(holder.Join(kDeadline));
  EXPECT_FALSE(holder.IsAlive());
  EXPECT_THAT(lock.Acquire(kDeadline),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr("ended without releasing it")));
  // The caller holds it now.
  EXPECT_FALSE(*lock.Acquire(absl::ZeroDuration()));
  ASSERT_OK(lock.Release());
  EXPECT_TRUE(*lock.Acquire(absl::ZeroDuration()));
  ASSERT_OK(lock.Release());
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ManagerEventWaitAndSetAcrossProcesses) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(EventProxy go, manager.Event());
  ASSERT_OK_AND_ASSIGN(EventProxy done, manager.Event());
  // A child whose wait times out sets nothing.
  Process early = RunToEnd(Target(&workloads::SetWhenSignalled, go, done, 20));
  EXPECT_EQ(early.exitcode(), 0);
  EXPECT_FALSE(*done.IsSet());
  Process child = ctx().NewProcess(
      Target(&workloads::SetWhenSignalled, go, done,
             static_cast<int64_t>(absl::ToInt64Milliseconds(kDeadline))));
  ASSERT_OK(child.Start());
  EXPECT_FALSE(*done.Wait(absl::Milliseconds(20)));
  ASSERT_OK(go.Set());
  EXPECT_TRUE(*done.Wait(kDeadline));
  ASSERT_OK(child.Join(kDeadline));
  EXPECT_EQ(child.exitcode(), 0);
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ManagerQueueBlocksAFullPutAcrossProcesses) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(QueueProxy<int64_t> queue, manager.Queue<int64_t>(2));
  constexpr int64_t kCount = 50;
  Process producer =
      ctx().NewProcess(Target(&workloads::PutCount, queue, kCount));
  ASSERT_OK(producer.Start());
  for (int64_t i = 0; i < kCount; ++i) {
    ASSERT_OK_AND_ASSIGN(int64_t item, queue.Get(kDeadline));
    EXPECT_EQ(item, i);
    EXPECT_LE(*queue.QSize(), 2);
  }
  ASSERT_OK(producer.Join(kDeadline));
  EXPECT_EQ(producer.exitcode(), 0);
  EXPECT_TRUE(*queue.Empty());
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ManagerProxySentThroughAPipeToARunningChild) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(auto ends, ctx().Pipe());
  auto& [here, there] = ends;
  Process child = ctx().NewProcess(Target(&workloads::FillDictFromPipe, there));
  ASSERT_OK(child.Start());
  there.Close();
  // Made after the child started: it reaches it only through the pipe.
  ASSERT_OK_AND_ASSIGN(NameDict dict, (manager.Dict<std::string, int64_t>()));
  // Synchronous: a pipelined Set is flushed by Start or this process's next
  // synchronous call, not by a Send on a Pipe.
  ASSERT_OK(dict.SetSync("from-parent", 1));
  ASSERT_OK(here.Send(dict));
  ASSERT_OK_AND_ASSIGN(int64_t size, here.Recv<int64_t>());
  EXPECT_EQ(size, 2);
  EXPECT_EQ(*dict.Get("from-pipe"), 42);
  ASSERT_OK(child.Join(kDeadline));
  EXPECT_EQ(child.exitcode(), 0);
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ManagerProxySentThroughAManagerQueueToARunningChild) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(QueueProxy<QueueProxy<int64_t>> inbox,
                       manager.Queue<QueueProxy<int64_t>>());
  constexpr int64_t kCount = 10;
  Process child =
      ctx().NewProcess(Target(&workloads::FillQueueFromQueue, inbox, kCount));
  ASSERT_OK(child.Start());
  ASSERT_OK_AND_ASSIGN(QueueProxy<int64_t> queue, manager.Queue<int64_t>());
  ASSERT_OK(inbox.Put(queue));
  for (int64_t i = 0; i < kCount; ++i) EXPECT_EQ(*queue.Get(kDeadline), i);
  ASSERT_OK(child.Join(kDeadline));
  EXPECT_EQ(child.exitcode(), 0);
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ShutdownEndsAWaitOnTheServer) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(EventProxy go, manager.Event());
  ASSERT_OK_AND_ASSIGN(EventProxy done, manager.Event());
  ASSERT_OK_AND_ASSIGN(EventProxy never, manager.Event());
  ASSERT_OK_AND_ASSIGN(LockProxy lock, manager.Lock());
  // The child holds the lock and waits on the server for ever.
  Process child = ctx().NewProcess(
      Target(&workloads::HoldManagerLockUntilKilled, lock, done, never));
  ASSERT_OK(child.Start());
  ASSERT_TRUE(*done.Wait(kDeadline));
  // The server stops at once: the child's wait ends with an error.
  ASSERT_OK(manager.Shutdown());
  ASSERT_OK(child.Join(kDeadline));
  EXPECT_EQ(child.exitcode(), 1);
  (void)go;
}

}  // namespace
}  // namespace mproc::conformance
