// Unit tests for api/internal/manager_store.h: each request on the lists,
// dicts, queues, locks, events and values, without a channel.
#include "api/internal/manager_store.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc::internal {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

// Applies `op` with `fields`; returns the reply body.
absl::StatusOr<std::string> Apply(ManagerStore& store, Op op,
                                  const std::string& fields = "",
                                  const RequestContext& context = {}) {
  ByteReader in(fields);
  ByteWriter reply;
  if (absl::Status s = store.Apply(op, in, reply, context); !s.ok()) return s;
  if (!in.empty()) return absl::InvalidArgumentError("fields left unread");
  return reply.Release();
}

std::string Fields(uint64_t id) {
  ByteWriter out;
  out.PutVarint(id);
  return out.Release();
}

std::string AppendFields(uint64_t id, const std::string& item) {
  ByteWriter out;
  out.PutVarint(id);
  out.PutBytes(item);
  return out.Release();
}

uint64_t CreateList(ManagerStore& store) {
  absl::StatusOr<std::string> body = Apply(store, Op::kCreateList);
  EXPECT_OK(body);
  ByteReader in(*body);
  return *in.GetVarint();
}

int64_t Size(ManagerStore& store, uint64_t id) {
  absl::StatusOr<std::string> body = Apply(store, Op::kSize, Fields(id));
  EXPECT_OK(body);
  ByteReader in(*body);
  return static_cast<int64_t>(*in.GetVarint());
}

TEST(ManagerStoreTest, ListsAreSeparateAndKeepOrder) {
  ManagerStore store;
  const uint64_t a = CreateList(store);
  const uint64_t b = CreateList(store);
  EXPECT_NE(a, b);
  ASSERT_OK(Apply(store, Op::kAppend, AppendFields(a, "x")));
  ByteWriter extend;
  extend.PutVarint(a);
  extend.PutVarint(2);
  extend.PutBytes("y");
  extend.PutBytes("z");
  ASSERT_OK(Apply(store, Op::kExtend, extend.data()));
  EXPECT_EQ(Size(store, a), 3);
  EXPECT_EQ(Size(store, b), 0);
  ByteWriter get;
  get.PutVarint(a);
  get.PutSignedVarint(-1);
  ASSERT_OK_AND_ASSIGN(std::string last, Apply(store, Op::kGet, get.data()));
  ByteReader item(last);
  EXPECT_EQ(*item.GetBytes(), "z");
  ASSERT_OK_AND_ASSIGN(std::string all, Apply(store, Op::kSnapshot, Fields(a)));
  ByteReader snapshot(all);
  EXPECT_EQ(*snapshot.GetVarint(), 3u);
  EXPECT_EQ(*snapshot.GetBytes(), "x");
}

TEST(ManagerStoreTest, BadRequestsAreStatuses) {
  ManagerStore store;
  const uint64_t a = CreateList(store);
  EXPECT_THAT(Apply(store, Op::kSize, Fields(a + 7)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no list")));
  ByteWriter get;
  get.PutVarint(a);
  get.PutSignedVarint(0);
  EXPECT_THAT(Apply(store, Op::kGet, get.data()),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(Apply(store, Op::kHello),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Apply(store, Op::kAppend, Fields(a)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ByteWriter extend;  // claims more items than it holds
  extend.PutVarint(a);
  extend.PutVarint(1000);
  EXPECT_THAT(Apply(store, Op::kExtend, extend.data()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(Apply(store, Op::kSync));
  EXPECT_OK(Apply(store, Op::kShutdown));
}

// Issue 7.5: a reply over the limit fails that request alone.
TEST(ManagerStoreTest, ReplyOverTheLimitIsResourceExhaustedAndChangesNothing) {
  ManagerStore store(/*max_reply=*/100);
  const uint64_t a = CreateList(store);
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(Apply(store, Op::kAppend, AppendFields(a, "item")));
  }
  ASSERT_OK(Apply(store, Op::kAppend, AppendFields(a, std::string(200, 'b'))));
  EXPECT_THAT(Apply(store, Op::kSnapshot, Fields(a)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("too large for one reply")));
  ByteWriter get;
  get.PutVarint(a);
  get.PutSignedVarint(-1);
  EXPECT_THAT(Apply(store, Op::kGet, get.data()),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(Size(store, a), 21);
  ByteWriter first;
  first.PutVarint(a);
  first.PutSignedVarint(0);
  EXPECT_OK(Apply(store, Op::kGet, first.data()));
}

// Fields: the id, then each of `bytes` as a byte string.
std::string IdBytes(uint64_t id, std::initializer_list<std::string> bytes) {
  ByteWriter out;
  out.PutVarint(id);
  for (const std::string& b : bytes) out.PutBytes(b);
  return out.Release();
}

// Fields: the id, a wire timeout, then `item` when given.
std::string IdTimeout(uint64_t id, int64_t timeout_us,
                      std::optional<std::string> item = std::nullopt) {
  ByteWriter out;
  out.PutVarint(id);
  out.PutSignedVarint(timeout_us);
  if (item) out.PutBytes(*item);
  return out.Release();
}

uint64_t Create(ManagerStore& store, Op op, const std::string& fields = "") {
  absl::StatusOr<std::string> body = Apply(store, op, fields);
  EXPECT_OK(body);
  ByteReader in(*body);
  return *in.GetVarint();
}

bool BoolOf(const absl::StatusOr<std::string>& body) {
  EXPECT_OK(body);
  ByteReader in(*body);
  return *in.GetBool();
}

TEST(ManagerStoreTest, DictSetGetPopEraseAndSnapshots) {
  ManagerStore store;
  const uint64_t d = Create(store, Op::kCreateDict);
  ASSERT_OK(Apply(store, Op::kDictSet, IdBytes(d, {"k", "1"})));
  ASSERT_OK(Apply(store, Op::kDictSetSync, IdBytes(d, {"k", "2"})));
  ASSERT_OK(Apply(store, Op::kDictSet, IdBytes(d, {"j", "3"})));
  ASSERT_OK_AND_ASSIGN(std::string got,
                       Apply(store, Op::kDictGet, IdBytes(d, {"k"})));
  ByteReader in(got);
  EXPECT_TRUE(*in.GetBool());
  EXPECT_EQ(*in.GetBytes(), "2");  // overwritten
  EXPECT_FALSE(BoolOf(Apply(store, Op::kDictGet, IdBytes(d, {"x"}))));
  EXPECT_TRUE(BoolOf(Apply(store, Op::kDictContains, IdBytes(d, {"j"}))));
  EXPECT_EQ(*ByteReader(*Apply(store, Op::kDictSize, Fields(d))).GetVarint(),
            2u);
  ASSERT_OK_AND_ASSIGN(std::string items,
                       Apply(store, Op::kDictItems, Fields(d)));
  ByteReader all(items);
  EXPECT_EQ(*all.GetVarint(), 2u);
  ASSERT_OK_AND_ASSIGN(std::string popped,
                       Apply(store, Op::kDictPop, IdBytes(d, {"k"})));
  EXPECT_EQ(*ByteReader(popped).GetBytes(), "2");
  EXPECT_THAT(Apply(store, Op::kDictPop, IdBytes(d, {"k"})),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no such key")));
  EXPECT_THAT(Apply(store, Op::kDictErase, IdBytes(d, {"k"})),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(Apply(store, Op::kDictClear, Fields(d)));
  EXPECT_EQ(*ByteReader(*Apply(store, Op::kDictKeys, Fields(d))).GetVarint(),
            0u);
  // An id of another type is not a dict.
  const uint64_t list = CreateList(store);
  EXPECT_THAT(Apply(store, Op::kDictSize, Fields(list)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no dict")));
  EXPECT_THAT(Apply(store, Op::kDictSet, IdBytes(d, {"only a key"})),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ManagerStoreTest, DictKeysOverTheReplyLimitAreRefused) {
  ManagerStore store(/*max_reply=*/100);
  const uint64_t d = Create(store, Op::kCreateDict);
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(
        Apply(store, Op::kDictSet, IdBytes(d, {absl::StrCat("key", i), "v"})));
  }
  EXPECT_THAT(Apply(store, Op::kDictKeys, Fields(d)),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(Apply(store, Op::kDictItems, Fields(d)),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(ManagerStoreTest, QueueWithoutAServerNeverWaits) {
  ManagerStore store;
  ByteWriter maxsize;
  maxsize.PutVarint(1);
  const uint64_t q = Create(store, Op::kCreateQueue, maxsize.data());
  EXPECT_THAT(Apply(store, Op::kQueueGet, IdTimeout(q, kNoTimeout)),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("queue is empty")));
  ASSERT_OK(Apply(store, Op::kQueuePut, IdTimeout(q, kNoTimeout, "a")));
  EXPECT_THAT(Apply(store, Op::kQueuePut, IdTimeout(q, kNoTimeout, "b")),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("queue is full")));
  ASSERT_OK_AND_ASSIGN(std::string item,
                       Apply(store, Op::kQueueGet, IdTimeout(q, 0)));
  EXPECT_EQ(*ByteReader(item).GetBytes(), "a");
}

TEST(ManagerStoreTest, QueueGetWaitsForAPutFromAnotherConnection) {
  ManagerStore store;
  ByteWriter unbounded;
  unbounded.PutVarint(0);
  const uint64_t q = Create(store, Op::kCreateQueue, unbounded.data());
  const RequestContext waiting{.connection = 1,
                               .max_wait = absl::InfiniteDuration()};
  absl::StatusOr<std::string> got;
  std::thread getter([&] {
    got = Apply(store, Op::kQueueGet, IdTimeout(q, kNoTimeout), waiting);
  });
  ASSERT_OK(Apply(store, Op::kQueuePut, IdTimeout(q, 0, "late")));
  getter.join();
  ASSERT_OK(got);
  EXPECT_EQ(*ByteReader(*got).GetBytes(), "late");
}

TEST(ManagerStoreTest, AWaitEndsWhenThePeerIsGoneOrTheStoreStops) {
  ManagerStore store;
  const uint64_t e = Create(store, Op::kCreateEvent);
  const RequestContext gone{.connection = 1,
                            .max_wait = absl::InfiniteDuration(),
                            .peer_gone = [] { return true; }};
  EXPECT_THAT(Apply(store, Op::kEventWait, IdTimeout(e, kNoTimeout), gone),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("hung up")));
  const RequestContext waiting{.connection = 1,
                               .max_wait = absl::InfiniteDuration()};
  absl::StatusOr<std::string> got;
  std::thread waiter([&] {
    got = Apply(store, Op::kEventWait, IdTimeout(e, kNoTimeout), waiting);
  });
  store.Stop();
  waiter.join();
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kUnavailable,
                            HasSubstr("shutting down")));
}

TEST(ManagerStoreTest, EventWaitTimesOutAsFalse) {
  ManagerStore store;
  const uint64_t e = Create(store, Op::kCreateEvent);
  const RequestContext waiting{.connection = 1,
                               .max_wait = absl::InfiniteDuration()};
  const absl::Time start = absl::Now();
  EXPECT_FALSE(
      BoolOf(Apply(store, Op::kEventWait, IdTimeout(e, 30'000), waiting)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(30));
  ASSERT_OK(Apply(store, Op::kEventSet, Fields(e)));
  EXPECT_TRUE(BoolOf(Apply(store, Op::kEventIsSet, Fields(e))));
  EXPECT_TRUE(BoolOf(Apply(store, Op::kEventWait, IdTimeout(e, 0))));
  ASSERT_OK(Apply(store, Op::kEventClear, Fields(e)));
  EXPECT_FALSE(BoolOf(Apply(store, Op::kEventIsSet, Fields(e))));
}

TEST(ManagerStoreTest, LockIsHeldByAConnectionAndAbandonedWhenItCloses) {
  ManagerStore store;
  const uint64_t l = Create(store, Op::kCreateLock);
  const RequestContext one{.connection = 1};
  const RequestContext two{.connection = 2};
  EXPECT_THAT(Apply(store, Op::kLockRelease, Fields(l), one),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(BoolOf(Apply(store, Op::kLockAcquire, IdTimeout(l, 0), one)));
  EXPECT_FALSE(BoolOf(Apply(store, Op::kLockAcquire, IdTimeout(l, 0), two)));
  EXPECT_THAT(Apply(store, Op::kLockRelease, Fields(l), two),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("held by another")));
  store.ConnectionClosed(1);
  EXPECT_THAT(Apply(store, Op::kLockAcquire, IdTimeout(l, 0), two),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr("ended without releasing it")));
  // Two holds it now; the next acquirer is told nothing more.
  EXPECT_FALSE(BoolOf(Apply(store, Op::kLockAcquire, IdTimeout(l, 0), one)));
  ASSERT_OK(Apply(store, Op::kLockRelease, Fields(l), two));
  EXPECT_TRUE(BoolOf(Apply(store, Op::kLockAcquire, IdTimeout(l, 0), one)));
}

TEST(ManagerStoreTest, ValueGetAndSet) {
  ManagerStore store;
  ByteWriter initial;
  initial.PutBytes("v0");
  const uint64_t v = Create(store, Op::kCreateValue, initial.data());
  EXPECT_EQ(*ByteReader(*Apply(store, Op::kValueGet, Fields(v))).GetBytes(),
            "v0");
  ASSERT_OK(Apply(store, Op::kValueSet, IdBytes(v, {"v1"})));
  ASSERT_OK(Apply(store, Op::kValueSetSync, IdBytes(v, {"v2"})));
  EXPECT_EQ(*ByteReader(*Apply(store, Op::kValueGet, Fields(v))).GetBytes(),
            "v2");
  EXPECT_THAT(Apply(store, Op::kValueGet, Fields(v + 100)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no value")));
}

}  // namespace
}  // namespace mproc::internal
