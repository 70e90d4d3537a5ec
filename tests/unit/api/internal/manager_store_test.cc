// Unit tests for api/internal/manager_store.h: each request on the lists,
// without a channel.
#include "api/internal/manager_store.h"

#include <cstdint>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc::internal {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

// Applies `op` with `fields`; returns the reply body.
absl::StatusOr<std::string> Apply(ManagerStore& store, Op op,
                                  const std::string& fields = "") {
  ByteReader in(fields);
  ByteWriter reply;
  if (absl::Status s = store.Apply(op, in, reply); !s.ok()) return s;
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

}  // namespace
}  // namespace mproc::internal
