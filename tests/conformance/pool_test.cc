// Pool (api/pool.h): Map results and order for every chunk size, ApplyAsync
// and its timeouts, failing items among good ones, a worker killed while it
// holds a task, max_tasks_per_child, Close / Join / Terminate and the
// destructor, a Pool refused inside a worker, and nothing left behind.
#include "api/pool.h"

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "api/manager.h"
#include "api/shared_value.h"
#include "api/target.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/status_matchers.h"
#include "workloads/pool.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::HoldsValue;
using ::mproc::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr absl::Duration kWait = ConformanceTest::kDeadline;
// A wait that is meant to run out: nothing can arrive during it.
constexpr absl::Duration kShort = absl::Milliseconds(20);

// Not registered: runs only where workers share or copy memory.
int64_t UnregisteredTriple(int64_t x) { return 3 * x; }

std::vector<int64_t> Range(int64_t n) {
  std::vector<int64_t> values;
  for (int64_t i = 0; i < n; ++i) values.push_back(i);
  return values;
}

std::vector<int64_t> Squares(int64_t n) {
  std::vector<int64_t> values;
  for (int64_t i = 0; i < n; ++i) values.push_back(i * i);
  return values;
}

// Closes and joins `pool`; fails the test on error.
void CloseAndJoin(Pool& pool) {
  EXPECT_OK(pool.Close());
  EXPECT_OK(pool.Join(kWait));
}

TEST_P(ConformanceTest, PoolMapKeepsInputOrderForEveryChunkSize) {
  constexpr int64_t kItems = 37;
  ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx(), {.processes = 2}));
  for (size_t chunksize = 0; chunksize <= kItems + 1; ++chunksize) {
    EXPECT_THAT(pool.Map(&workloads::Square, Range(kItems), chunksize),
                HoldsValue(Squares(kItems)))
        << "chunksize " << chunksize;
  }
  CloseAndJoin(pool);
}

TEST_P(ConformanceTest, PoolMapOfNoInputsIsEmpty) {
  ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx(), {.processes = 1}));
  EXPECT_THAT(pool.Map(&workloads::Square, std::vector<int64_t>{}),
              HoldsValue(IsEmpty()));
  CloseAndJoin(pool);
}

TEST_P(ConformanceTest, PoolStarmapCallsWithEachTuple) {
  ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx(), {.processes = 2}));
  std::vector<std::tuple<std::string, int64_t>> inputs = {
      {"ab", 2}, {"x", 0}, {"yz", 1}, {"-", 3}};
  for (size_t chunksize : {0, 1, 3}) {
    EXPECT_THAT(pool.Starmap(&workloads::Repeat, inputs, chunksize),
                HoldsValue(ElementsAre("abab", "", "yz", "---")));
  }
  CloseAndJoin(pool);
}

TEST_P(ConformanceTest, PoolImapYieldsInOrderAndImapUnorderedYieldsAll) {
  constexpr int64_t kItems = 25;
  ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx(), {.processes = 2}));
  for (size_t chunksize : {1, 4}) {
    ASSERT_OK_AND_ASSIGN(
        ResultIterator<int64_t> ordered,
        pool.Imap(&workloads::Square, Range(kItems), chunksize));
    ASSERT_OK_AND_ASSIGN(
        ResultIterator<int64_t> unordered,
        pool.ImapUnordered(&workloads::Square, Range(kItems), chunksize));
    std::multiset<int64_t> seen;
    for (int64_t i = 0; i < kItems; ++i) {
      EXPECT_THAT(ordered.Next(kWait), HoldsValue(i * i));
      ASSERT_OK_AND_ASSIGN(int64_t value, unordered.Next(kWait));
      seen.insert(value);
    }
    std::vector<int64_t> squares = Squares(kItems);
    EXPECT_EQ(seen, std::multiset<int64_t>(squares.begin(), squares.end()));
    EXPECT_THAT(ordered.Next(kWait),
                StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("no more")));
    EXPECT_THAT(unordered.Next(kWait),
                StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("no more")));
  }
  // A failed item is that item's result; the iteration goes on.
  ASSERT_OK_AND_ASSIGN(
      ResultIterator<int64_t> mixed,
      pool.Imap(&workloads::FailOnNegative, std::vector<int64_t>{1, -2, 3}));
  EXPECT_THAT(mixed.Next(kWait), HoldsValue(1));
  EXPECT_THAT(mixed.Next(kWait), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("item 1")));
  EXPECT_THAT(mixed.Next(kWait), HoldsValue(3));
  CloseAndJoin(pool);
}

TEST_P(ConformanceTest, PoolApplyAsyncTimesOutUntilTheTaskReturns) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(EventProxy started, manager.Event());
  ASSERT_OK_AND_ASSIGN(EventProxy release, manager.Event());
  {
    ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx(), {.processes = 1}));
    AsyncResult<int64_t> result =
        pool.ApplyAsync(&workloads::WaitForRelease, started, release);
    EXPECT_THAT(started.Wait(kWait), HoldsValue(true));
    EXPECT_THAT(result.Get(kShort),
                StatusIs(absl::StatusCode::kDeadlineExceeded,
                         HasSubstr("result not ready")));
    EXPECT_FALSE(result.Ready());
    EXPECT_FALSE(result.Wait(absl::ZeroDuration()));
    EXPECT_THAT(result.Successful(),
                StatusIs(absl::StatusCode::kFailedPrecondition));
    ASSERT_OK(release.Set());
    EXPECT_THAT(result.Get(kWait), HoldsValue(1));
    EXPECT_TRUE(result.Ready());
    EXPECT_THAT(result.Successful(), HoldsValue(true));
    CloseAndJoin(pool);
  }
  EXPECT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, PoolFailingItemsFailAloneAndMapReportsTheFirst) {
  ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx(), {.processes = 2}));
  EXPECT_THAT(
      pool.Map(&workloads::FailOnNegative, std::vector<int64_t>{1, -2, 3, -4},
               1),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("item 1"), HasSubstr("negative input -2"))));
  AsyncResult<int64_t> bad = pool.ApplyAsync(&workloads::FailOnNegative, -5);
  AsyncResult<int64_t> thrown = pool.ApplyAsync(&workloads::ThrowOnSeven, 7);
  AsyncResult<int64_t> good = pool.ApplyAsync(&workloads::ThrowOnSeven, 8);
  EXPECT_THAT(bad.Get(kWait), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("negative input -5")));
  EXPECT_THAT(thrown.Get(kWait),
              StatusIs(absl::StatusCode::kUnknown,
                       HasSubstr("task raised: seven is unlucky")));
  EXPECT_THAT(thrown.Successful(), HoldsValue(false));
  EXPECT_THAT(good.Get(kWait), HoldsValue(8));
  // The workers went on.
  EXPECT_THAT(pool.Map(&workloads::Square, Range(10)), HoldsValue(Squares(10)));
  CloseAndJoin(pool);
}

// Starts a one-worker Pool on a task that blocks, kills the worker with
// `kill`, and checks that only that task failed and the Pool went on.
void ExpectAKilledWorkerFailsOnlyItsTask(
    const Context& ctx,
    const std::function<absl::Status(Pool&, int64_t)>& kill) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(EventProxy started, manager.Event());
  ASSERT_OK_AND_ASSIGN(EventProxy never, manager.Event());
  {
    ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx, {.processes = 1}));
    AsyncResult<int64_t> doomed =
        pool.ApplyAsync(&workloads::WaitForRelease, started, never);
    // Queued behind the doomed task: it runs on the replacement.
    AsyncResult<int64_t> after = pool.ApplyAsync(&workloads::Square, 9);
    EXPECT_THAT(started.Wait(kWait), HoldsValue(true));
    std::vector<ProcessInfo> workers = pool.Workers();
    ASSERT_THAT(workers, SizeIs(1));
    ASSERT_OK(kill(pool, workers[0].pid));
    EXPECT_THAT(doomed.Get(kWait), StatusIs(absl::StatusCode::kAborted,
                                            AllOf(HasSubstr(workers[0].name),
                                                  HasSubstr("exitcode -9"))));
    EXPECT_THAT(after.Get(kWait), HoldsValue(81));
    EXPECT_THAT(pool.Map(&workloads::Square, Range(20), 3),
                HoldsValue(Squares(20)));
    std::vector<ProcessInfo> now = pool.Workers();
    ASSERT_THAT(now, SizeIs(1));
    EXPECT_NE(now[0].pid, workers[0].pid);
    CloseAndJoin(pool);
  }
  EXPECT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, PoolWorkerKilledBySigkillFailsOnlyItsTask) {
  MPROC_REQUIRE_HOOK(kill_pid);
  ExpectAKilledWorkerFailsOnlyItsTask(ctx(), [this](Pool&, int64_t pid) {
    GetParam().kill_pid(pid);
    return absl::OkStatus();
  });
}

TEST_P(ConformanceTest, PoolWorkerKilledWhileHoldingATaskFailsOnlyThatTask) {
  ExpectAKilledWorkerFailsOnlyItsTask(ctx(), [](Pool& pool, int64_t pid) {
    return pool.KillWorkerForTest(pid);
  });
}

TEST_P(ConformanceTest, PoolWorkerThatExitsMidTaskFailsOnlyThatTask) {
  ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx(), {.processes = 2}));
  std::vector<AsyncResult<int64_t>> before;
  for (int64_t i = 0; i < 10; ++i) {
    before.push_back(pool.ApplyAsync(&workloads::Square, i));
  }
  AsyncResult<int64_t> crashed = pool.ApplyAsync(&workloads::ExitWorker, 3);
  EXPECT_THAT(crashed.Get(kWait),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("PoolWorker-"),
                             HasSubstr("died with exitcode 3"))));
  for (int64_t i = 0; i < 10; ++i) {
    EXPECT_THAT(before[i].Get(kWait), HoldsValue(i * i));
  }
  EXPECT_THAT(pool.Map(&workloads::Square, Range(30), 2),
              HoldsValue(Squares(30)));
  EXPECT_THAT(pool.Workers(), SizeIs(2));
  CloseAndJoin(pool);
}

TEST_P(ConformanceTest, PoolMaxTasksPerChildRecyclesWorkersWithoutLosingItems) {
  constexpr int64_t kItems = 10;
  ASSERT_OK_AND_ASSIGN(
      Pool pool,
      Pool::Create(ctx(), {.processes = 1, .max_tasks_per_child = 2}));
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> pids,
                       pool.Map(&workloads::WorkerPid, Range(kItems), 1));
  EXPECT_THAT(std::set<int64_t>(pids.begin(), pids.end()), SizeIs(kItems / 2));
  CloseAndJoin(pool);
}

TEST_P(ConformanceTest, PoolCloseLetsQueuedTasksFinishThenJoinEndsWorkers) {
  ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx(), {.processes = 2}));
  EXPECT_THAT(pool.Join(kShort), StatusIs(absl::StatusCode::kFailedPrecondition,
                                          HasSubstr("Pool is still running")));
  std::vector<AsyncResult<int64_t>> results;
  for (int64_t i = 0; i < 50; ++i) {
    results.push_back(pool.ApplyAsync(&workloads::Square, i));
  }
  ASSERT_OK(pool.Close());
  EXPECT_THAT(pool.ApplyAsync(&workloads::Square, 1).Get(kWait),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("Pool not running")));
  EXPECT_THAT(pool.Map(&workloads::Square, Range(3)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(pool.Join(kWait));
  for (int64_t i = 0; i < 50; ++i) {
    EXPECT_THAT(results[i].Get(absl::ZeroDuration()), HoldsValue(i * i));
  }
  EXPECT_THAT(pool.Workers(), IsEmpty());
  EXPECT_OK(pool.Terminate());  // after Join: nothing to do
}

TEST_P(ConformanceTest, PoolTerminateAndTheDestructorCancelUnfinishedTasks) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(EventProxy started, manager.Event());
  ASSERT_OK_AND_ASSIGN(EventProxy never, manager.Event());
  {
    ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx(), {.processes = 1}));
    AsyncResult<int64_t> running =
        pool.ApplyAsync(&workloads::WaitForRelease, started, never);
    AsyncResult<int64_t> queued = pool.ApplyAsync(&workloads::Square, 3);
    EXPECT_THAT(started.Wait(kWait), HoldsValue(true));
    ASSERT_OK(pool.Terminate());
    EXPECT_THAT(running.Get(kWait), StatusIs(absl::StatusCode::kCancelled));
    EXPECT_THAT(queued.Get(kWait), StatusIs(absl::StatusCode::kCancelled));
    EXPECT_THAT(pool.Workers(), IsEmpty());
    EXPECT_OK(pool.Join(kWait));
  }
  ASSERT_OK(started.Clear());
  AsyncResult<int64_t> outlived = [&] {
    absl::StatusOr<Pool> pool = Pool::Create(ctx(), {.processes = 1});
    EXPECT_OK(pool.status());
    AsyncResult<int64_t> result =
        pool->ApplyAsync(&workloads::WaitForRelease, started, never);
    EXPECT_THAT(started.Wait(kWait), HoldsValue(true));
    return result;  // the Pool's destructor terminates
  }();
  EXPECT_THAT(outlived.Get(kWait), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, PoolInsideAWorkerIsRefusedWithCPythonsPhrase) {
  ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx(), {.processes = 1}));
  EXPECT_THAT(
      pool.ApplyAsync(&workloads::CreateNestedPool, 0).Get(kWait),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          HasSubstr("daemonic processes are not allowed to have children")));
  CloseAndJoin(pool);
}

TEST_P(ConformanceTest, PoolRunsUnregisteredFunctionsOnlyWhereMemoryIsShared) {
  ASSERT_OK_AND_ASSIGN(Pool pool, Pool::Create(ctx(), {.processes = 1}));
  absl::StatusOr<std::vector<int64_t>> tripled =
      pool.Map(&UnregisteredTriple, Range(4));
  if (ctx().start_method().runs_closures) {
    EXPECT_THAT(tripled, HoldsValue(ElementsAre(0, 3, 6, 9)));
  } else {
    EXPECT_THAT(tripled, StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("MPROC_REGISTER_TASK")));
  }
  CloseAndJoin(pool);
}

TEST_P(ConformanceTest, PoolInitializerRunsOnceInEachWorkerBeforeItsTasks) {
  ASSERT_OK_AND_ASSIGN(Value<int64_t> initialized,
                       Value<int64_t>::Create(ctx(), 0));
  ASSERT_OK_AND_ASSIGN(
      Pool pool,
      Pool::Create(ctx(), {.processes = 2,
                           .initializer = Target(&workloads::RememberTag,
                                                 initialized, int64_t{42})}));
  EXPECT_THAT(pool.Map(&workloads::WorkerTag, Range(20), 1),
              HoldsValue(std::vector<int64_t>(20, 42)));
  CloseAndJoin(pool);
  // A Value handed to the initializer through the worker's launch: one
  // increment per worker.
  EXPECT_THAT(initialized.Get(), HoldsValue(2));
}

TEST_P(ConformanceTest, PoolInitializerRunsInEveryReplacementWorker) {
  ASSERT_OK_AND_ASSIGN(Value<int64_t> initialized,
                       Value<int64_t>::Create(ctx(), 0));
  ASSERT_OK_AND_ASSIGN(
      Pool pool,
      Pool::Create(ctx(), {.processes = 1,
                           .initializer = Target(&workloads::RememberTag,
                                                 initialized, int64_t{7}),
                           .max_tasks_per_child = 1}));
  EXPECT_THAT(pool.Map(&workloads::WorkerTag, Range(3), 1),
              HoldsValue(ElementsAre(7, 7, 7)));
  CloseAndJoin(pool);
  // Three workers ran an item each; a fourth may have started before Close.
  ASSERT_OK_AND_ASSIGN(int64_t runs, initialized.Get());
  EXPECT_GE(runs, 3);
  EXPECT_LE(runs, 4);
}

TEST_P(ConformanceTest, PoolInitializerThatFailsStopsThePoolWithItsError) {
  ASSERT_OK_AND_ASSIGN(
      Pool pool,
      Pool::Create(ctx(), {.processes = 2,
                           .initializer = Target(&workloads::RefuseToInitialize,
                                                 std::string("no disk"))}));
  const auto initializer_error =
      StatusIs(absl::StatusCode::kUnavailable,
               AllOf(HasSubstr("initializer failed in PoolWorker-"),
                     HasSubstr("no disk"), HasSubstr("create a new Pool")));
  // Whether the items reached the pool before it stopped or not.
  EXPECT_THAT(pool.Map(&workloads::Square, Range(10)), initializer_error);
  EXPECT_THAT(pool.ApplyAsync(&workloads::Square, 3).Get(kWait),
              initializer_error);
  EXPECT_OK(pool.Close());
  EXPECT_OK(pool.Join(kWait));
  EXPECT_THAT(pool.Workers(), IsEmpty());
}

TEST_P(ConformanceTest, PoolInitializerMayBeAClosureOnlyWhereMemoryIsShared) {
  absl::StatusOr<Pool> pool = Pool::Create(
      ctx(), {.processes = 1, .initializer = Target([] { return 0; })});
  if (!ctx().start_method().runs_closures) {
    EXPECT_THAT(pool, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("MPROC_REGISTER_TARGET")));
    return;
  }
  ASSERT_OK(pool.status());
  EXPECT_THAT(pool->Map(&workloads::Square, Range(3)),
              HoldsValue(ElementsAre(0, 1, 4)));
  CloseAndJoin(*pool);
}

TEST_P(ConformanceTest, PoolRejectsBadOptions) {
  EXPECT_THAT(Pool::Create(ctx(), {.processes = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Pool::Create(ctx(), {.processes = 1, .max_tasks_per_child = -1}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mproc::conformance
