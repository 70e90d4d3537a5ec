// Queue<T> (api/queue.h) across processes: per-producer order with many
// producers and consumers, bounds and timeouts, producers that exit at once,
// consumers that are killed, and nothing left behind.
#include "api/queue.h"

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/synchronize.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/status_matchers.h"
#include "workloads/message_passing.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::HoldsValue;
using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = ConformanceTest::kDeadline;
// A wait that is meant to run out: nothing can arrive during it.
constexpr absl::Duration kShort = absl::Milliseconds(20);
// Producer p puts kBase * p + i.
constexpr int64_t kBase = 1'000'000;

TEST_P(ConformanceTest, QueueKeepsEachProducersOrder) {
  constexpr int64_t kProducers = 4;
  constexpr int64_t kItems = 1000;
  ASSERT_OK_AND_ASSIGN(Queue<int64_t> queue, Queue<int64_t>::Create(ctx()));
  std::vector<TargetCall> targets;
  for (int64_t p = 0; p < kProducers; ++p) {
    targets.push_back(Target(&workloads::PutRange, queue, kBase * p, kItems));
  }
  std::vector<Process> producers = StartAll(targets);
  std::vector<int64_t> next(kProducers, 0);
  for (int64_t n = 0; n < kProducers * kItems; ++n) {
    absl::StatusOr<int64_t> item = queue.Get(kWait);
    ASSERT_OK(item.status());
    const int64_t producer = *item / kBase;
    ASSERT_GE(producer, 0);
    ASSERT_LT(producer, kProducers);
    ASSERT_EQ(*item % kBase, next[producer]) << "from producer " << producer;
    ++next[producer];
  }
  JoinAllSucceeded(producers);
  EXPECT_THAT(queue.Get(kShort), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                          HasSubstr("queue is empty")));
  EXPECT_TRUE(queue.Empty());
}

TEST_P(ConformanceTest, QueueWithEightProducersAndFourConsumersLosesNothing) {
  constexpr int64_t kProducers = 8;
  constexpr int64_t kConsumers = 4;
  constexpr int64_t kItems = 500;
  ASSERT_OK_AND_ASSIGN(Queue<int64_t> work, Queue<int64_t>::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Queue<int64_t> done, Queue<int64_t>::Create(ctx()));
  std::vector<TargetCall> targets;
  for (int64_t c = 0; c < kConsumers; ++c) {
    targets.push_back(Target(&workloads::ForwardItems, work, done,
                             kProducers * kItems / kConsumers));
  }
  for (int64_t p = 0; p < kProducers; ++p) {
    targets.push_back(Target(&workloads::PutRange, work, kBase * p, kItems));
  }
  std::vector<Process> processes = StartAll(targets);
  std::set<int64_t> seen;
  for (int64_t n = 0; n < kProducers * kItems; ++n) {
    absl::StatusOr<int64_t> item = done.Get(kWait);
    ASSERT_OK(item.status());
    EXPECT_TRUE(seen.insert(*item).second) << "taken twice: " << *item;
  }
  JoinAllSucceeded(processes);
  for (int64_t p = 0; p < kProducers; ++p) {
    for (int64_t i = 0; i < kItems; ++i) {
      EXPECT_TRUE(seen.contains(kBase * p + i)) << "lost: " << kBase * p + i;
    }
  }
  EXPECT_THAT(work.Get(kShort), StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_P(ConformanceTest, ABoundedQueueTimesOutWhenFullAndWhenEmpty) {
  ASSERT_OK_AND_ASSIGN(Queue<std::string> queue,
                       Queue<std::string>::Create(ctx(), /*maxsize=*/2));
  EXPECT_EQ(queue.maxsize(), 2);
  ASSERT_OK(queue.Put("a"));
  ASSERT_OK(queue.Put("b", absl::ZeroDuration()));
  EXPECT_TRUE(queue.Full());
  EXPECT_EQ(queue.QSize(), 2);
  EXPECT_THAT(queue.Put("c", kShort),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("queue is full")));
  EXPECT_THAT(queue.Put("c", absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(queue.Get(), HoldsValue("a"));
  ASSERT_OK(queue.Put("c", kShort));  // the timed-out Puts left no trace
  EXPECT_THAT(queue.Get(), HoldsValue("b"));
  EXPECT_THAT(queue.Get(), HoldsValue("c"));
  EXPECT_TRUE(queue.Empty());
  EXPECT_THAT(queue.Get(kShort), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                          HasSubstr("queue is empty")));
  EXPECT_THAT(queue.Get(absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_P(ConformanceTest, ABoundedQueueHoldsBackAProducerUntilItemsAreTaken) {
  ASSERT_OK_AND_ASSIGN(Queue<int64_t> queue,
                       Queue<int64_t>::Create(ctx(), /*maxsize=*/2));
  Process producer = ctx().NewProcess(
      Target(&workloads::PutRange, queue, int64_t{0}, int64_t{50}));
  ASSERT_OK(producer.Start());
  for (int64_t i = 0; i < 50; ++i) {
    ASSERT_THAT(queue.Get(kWait), HoldsValue(i));
    EXPECT_LE(queue.QSize(), 2);
  }
  ASSERT_OK(producer.Join(kWait));
  EXPECT_EQ(producer.exitcode(), 0);
}

TEST_P(ConformanceTest, AProducerThatExitsRightAfterPutLosesNothing) {
  constexpr int64_t kItems = 1000;
  ASSERT_OK_AND_ASSIGN(Queue<int64_t> queue, Queue<int64_t>::Create(ctx()));
  Process producer =
      RunToEnd(Target(&workloads::PutRange, queue, int64_t{0}, kItems));
  EXPECT_EQ(producer.exitcode(), 0);
  // The producer has ended: every item it put is still there.
  EXPECT_EQ(queue.QSize(), kItems);
  for (int64_t i = 0; i < kItems; ++i) {
    ASSERT_THAT(queue.Get(absl::ZeroDuration()), HoldsValue(i));
  }
  EXPECT_THAT(queue.Get(kShort), StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_P(ConformanceTest, AConsumerKilledWhileBlockedInGetLeavesTheQueueUsable) {
  ASSERT_OK_AND_ASSIGN(Queue<int64_t> queue, Queue<int64_t>::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Event started, Event::Create(ctx()));
  Process consumer =
      ctx().NewProcess(Target(&workloads::BlockInGet, queue, started));
  ASSERT_OK(consumer.Start());
  ASSERT_THAT(started.Wait(kWait), HoldsValue(true));
  ASSERT_OK(consumer.Kill());
  ASSERT_OK(consumer.Join(kWait));
  EXPECT_EQ(consumer.exitcode(), -9);
  ASSERT_OK(queue.Put(5));
  EXPECT_THAT(queue.Get(kWait), HoldsValue(5));
  ASSERT_OK(queue.Put(6));
  EXPECT_THAT(queue.Get(kWait), HoldsValue(6));
}

TEST_P(ConformanceTest, AClosedQueueRefusesPutAndGet) {
  ASSERT_OK_AND_ASSIGN(Queue<int64_t> queue, Queue<int64_t>::Create(ctx()));
  ASSERT_OK(queue.Put(1));
  const Queue<int64_t> copy = queue;
  queue.Close();
  queue.Close();
  EXPECT_TRUE(copy.closed());
  EXPECT_THAT(copy.Put(2), StatusIs(absl::StatusCode::kFailedPrecondition,
                                    HasSubstr("Queue is closed")));
  EXPECT_THAT(copy.Get(kShort), StatusIs(absl::StatusCode::kFailedPrecondition,
                                         HasSubstr("Queue is closed")));
}

TEST_P(ConformanceTest, AnUnboundedQueueHoldsManyItemsWithoutAConsumer) {
  // Far more than a pipe or socket holds: the ring is the only buffer.
  constexpr int64_t kItems = 100'000;
  ASSERT_OK_AND_ASSIGN(Queue<int64_t> queue, Queue<int64_t>::Create(ctx()));
  for (int64_t i = 0; i < kItems; ++i) {
    ASSERT_OK(queue.Put(i, absl::ZeroDuration())) << "item " << i;
  }
  EXPECT_EQ(queue.QSize(), kItems);
  EXPECT_FALSE(queue.Full());  // unbounded
  Process consumer = RunToEnd(Target(&workloads::DrainRange, queue, kItems));
  EXPECT_EQ(consumer.exitcode(), 0);
  EXPECT_TRUE(queue.Empty());
}

TEST_P(ConformanceTest, AQueueCarriesItemsOfManySizesAroundItsRing) {
  // A 4 KiB ring: items up to the largest that fits (a 4090-byte string is
  // 4092 bytes encoded, a 4096-byte record) wrap around it many times, and
  // the producer waits for room.
  constexpr int64_t kCapacity = 4096;
  ASSERT_OK_AND_ASSIGN(
      Queue<std::string> queue,
      Queue<std::string>::Create(ctx(), 0, {.capacity_bytes = kCapacity}));
  EXPECT_EQ(queue.capacity_bytes(), kCapacity);
  std::vector<int64_t> sizes;
  for (int64_t round = 0; round < 3; ++round) {
    for (int64_t size = 0; size < 40; ++size) sizes.push_back(size);
    for (int64_t size : {100, 1000, 2047, 2048, 3000, 4000, 4088, 4089, 4090}) {
      sizes.push_back(size);
    }
    for (int64_t size = 4090; size > 0; size /= 3) sizes.push_back(size);
  }
  Process producer =
      ctx().NewProcess(Target(&workloads::PutStrings, queue, sizes));
  ASSERT_OK(producer.Start());
  for (size_t i = 0; i < sizes.size(); ++i) {
    absl::StatusOr<std::string> item = queue.Get(kWait);
    ASSERT_OK(item.status()) << "item " << i;
    ASSERT_EQ(*item, workloads::PatternString(sizes[i], i)) << "item " << i;
  }
  ASSERT_OK(producer.Join(kWait));
  EXPECT_EQ(producer.exitcode(), 0);
  EXPECT_TRUE(queue.Empty());
}

TEST_P(ConformanceTest, AnItemLargerThanTheRingIsRefused) {
  ASSERT_OK_AND_ASSIGN(
      Queue<std::string> queue,
      Queue<std::string>::Create(ctx(), 0, {.capacity_bytes = 256}));
  EXPECT_THAT(queue.Put(std::string(300, 'x')),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("capacity_bytes")));
  // 250 bytes + 2 length bytes + 4 = 256: the whole ring.
  ASSERT_OK(queue.Put(std::string(250, 'y'), absl::ZeroDuration()));
  EXPECT_THAT(queue.Put("z", kShort),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("queue is full")));
  EXPECT_THAT(queue.Get(), HoldsValue(std::string(250, 'y')));
  EXPECT_TRUE(queue.Empty());
  EXPECT_THAT(Queue<int64_t>::Create(ctx(), 0, {.capacity_bytes = 8}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(ConformanceTest, AConsumerKilledWhileItHoldsTheQueueLockTakesNothing) {
  constexpr int64_t kItems = 10;
  ASSERT_OK_AND_ASSIGN(Queue<int64_t> queue, Queue<int64_t>::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Event held, Event::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Event never, Event::Create(ctx()));
  for (int64_t i = 0; i < kItems; ++i) ASSERT_OK(queue.Put(i));
  // The consumer has copied item 0 out, and is killed before removing it.
  Process consumer = ctx().NewProcess(
      Target(&workloads::HoldQueueLockInGet, queue, held, never));
  ASSERT_OK(consumer.Start());
  ASSERT_THAT(held.Wait(kWait), HoldsValue(true));
  ASSERT_OK(consumer.Kill());
  ASSERT_OK(consumer.Join(kWait));
  EXPECT_EQ(consumer.exitcode(), -9);
  // Its lock is taken over; every item is still there, once, in order.
  for (int64_t i = 0; i < kItems; ++i)
    ASSERT_THAT(queue.Get(kWait), HoldsValue(i));
  EXPECT_THAT(queue.Get(kShort), StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_OK(queue.Put(kItems));
  EXPECT_THAT(queue.Get(kWait), HoldsValue(kItems));
}

TEST_P(ConformanceTest,
       AProducerKilledWhileItHoldsTheQueueLockLosesOnlyItsItem) {
  constexpr int64_t kItems = 10;
  ASSERT_OK_AND_ASSIGN(Queue<int64_t> queue, Queue<int64_t>::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Event held, Event::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Event never, Event::Create(ctx()));
  for (int64_t i = 0; i < kItems; ++i) ASSERT_OK(queue.Put(i));
  // The producer has written item 99's bytes, and is killed before
  // publishing it.
  Process producer = ctx().NewProcess(
      Target(&workloads::HoldQueueLockInPut, queue, int64_t{99}, held, never));
  ASSERT_OK(producer.Start());
  ASSERT_THAT(held.Wait(kWait), HoldsValue(true));
  ASSERT_OK(producer.Kill());
  ASSERT_OK(producer.Join(kWait));
  EXPECT_EQ(producer.exitcode(), -9);
  for (int64_t i = 0; i < kItems; ++i)
    ASSERT_THAT(queue.Get(kWait), HoldsValue(i));
  EXPECT_THAT(queue.Get(kShort), StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_OK(queue.Put(kItems));  // written where item 99 was begun
  EXPECT_THAT(queue.Get(kWait), HoldsValue(kItems));
}

TEST_P(ConformanceTest, ASimpleQueuePassesItemsBetweenProcesses) {
  constexpr int64_t kItems = 200;
  ASSERT_OK_AND_ASSIGN(SimpleQueue<int64_t> to_child,
                       SimpleQueue<int64_t>::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(SimpleQueue<int64_t> from_child,
                       SimpleQueue<int64_t>::Create(ctx()));
  EXPECT_TRUE(to_child.Empty());
  Process child = ctx().NewProcess(
      Target(&workloads::DoubleItems, to_child, from_child, kItems));
  ASSERT_OK(child.Start());
  for (int64_t i = 0; i < kItems; ++i) ASSERT_OK(to_child.Put(i));
  for (int64_t i = 0; i < kItems; ++i) {
    ASSERT_THAT(from_child.Get(kWait), HoldsValue(2 * i));
  }
  ASSERT_OK(child.Join(kWait));
  EXPECT_EQ(child.exitcode(), 0);
  EXPECT_TRUE(from_child.Empty());
  EXPECT_THAT(from_child.Get(kShort),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  from_child.Close();
  EXPECT_TRUE(from_child.closed());
  EXPECT_THAT(from_child.Put(1), StatusIs(absl::StatusCode::kFailedPrecondition,
                                          HasSubstr("Queue is closed")));
}

TEST_P(ConformanceTest, AJoinableQueueCountsUnfinishedTasks) {
  ASSERT_OK_AND_ASSIGN(JoinableQueue<int64_t> queue,
                       JoinableQueue<int64_t>::Create(ctx()));
  EXPECT_OK(queue.Join(kShort));  // nothing put: nothing unfinished
  EXPECT_THAT(queue.TaskDone(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("task_done() called too many times")));
  ASSERT_OK(queue.Put(1));
  ASSERT_OK(queue.Put(2));
  EXPECT_THAT(queue.Join(kShort), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                           HasSubstr("2 items")));
  EXPECT_THAT(queue.Get(), HoldsValue(1));
  ASSERT_OK(queue.TaskDone());  // done before it is taken counts too
  ASSERT_OK(queue.TaskDone());
  EXPECT_OK(queue.Join(absl::ZeroDuration()));
  EXPECT_THAT(queue.TaskDone(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(queue.Get(), HoldsValue(2));
}

TEST_P(ConformanceTest, AJoinableQueueJoinReturnsOnceChildrenMarkedAllDone) {
  constexpr int64_t kConsumers = 2;
  constexpr int64_t kItems = 100;
  ASSERT_OK_AND_ASSIGN(JoinableQueue<int64_t> queue,
                       JoinableQueue<int64_t>::Create(ctx()));
  ASSERT_OK_AND_ASSIGN(Queue<int64_t> taken, Queue<int64_t>::Create(ctx()));
  std::vector<TargetCall> targets;
  for (int64_t c = 0; c < kConsumers; ++c) {
    targets.push_back(
        Target(&workloads::TakeAndMarkDone, queue, taken, kItems / kConsumers));
  }
  std::vector<Process> consumers = StartAll(targets);
  for (int64_t i = 0; i < kItems; ++i) ASSERT_OK(queue.Put(i));
  ASSERT_OK(queue.Join(kWait));
  // Each child put its item on `taken` before marking it done.
  EXPECT_EQ(taken.QSize(), kItems);
  std::set<int64_t> seen;
  for (int64_t i = 0; i < kItems; ++i) {
    absl::StatusOr<int64_t> item = taken.Get(absl::ZeroDuration());
    ASSERT_OK(item.status());
    EXPECT_TRUE(seen.insert(*item).second) << "taken twice: " << *item;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kItems));
  JoinAllSucceeded(consumers);
  EXPECT_THAT(queue.TaskDone(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace mproc::conformance
