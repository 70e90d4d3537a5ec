// The frames of a Pool and its workers (api/internal/pool_protocol.h): round
// trips of every kind, and malformed input refused, never a crash.
#include "api/internal/pool_protocol.h"

#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc::internal {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

TEST(PoolProtocolTest, TaskFrameByNameRoundTrips) {
  const std::vector<std::string> items = {"a", std::string("\0\1", 2), ""};
  const std::string bytes =
      EncodeTaskFrame(7, TaskReference{.name = "Square"}, items);
  ASSERT_OK_AND_ASSIGN(auto frame, DecodeWorkerFrame(bytes));
  ASSERT_TRUE(std::holds_alternative<TaskFrame>(frame));
  const TaskFrame& task = std::get<TaskFrame>(frame);
  EXPECT_EQ(task.batch, 7u);
  EXPECT_EQ(task.function.name, "Square");
  EXPECT_THAT(task.items, ElementsAreArray(items));
}

absl::Status FakeThunk(FunctionKey, ByteReader&, ByteWriter&) {
  return absl::OkStatus();
}

TEST(PoolProtocolTest, TaskFrameByAddressRoundTrips) {
  TaskReference reference;
  reference.by_address = {.thunk = &FakeThunk, .function = 0x1234};
  // The decoded items are views into these bytes: they must outlive them.
  const std::string bytes = EncodeTaskFrame(1, reference, {"x"});
  ASSERT_OK_AND_ASSIGN(auto frame, DecodeWorkerFrame(bytes));
  const TaskFrame& task = std::get<TaskFrame>(frame);
  EXPECT_TRUE(task.function.name.empty());
  EXPECT_EQ(task.function.by_address.thunk, &FakeThunk);
  EXPECT_EQ(task.function.by_address.function, 0x1234u);
  EXPECT_THAT(task.items, ElementsAre("x"));
}

TEST(PoolProtocolTest, StopFrameRoundTrips) {
  ASSERT_OK_AND_ASSIGN(auto frame, DecodeWorkerFrame(EncodeStopFrame()));
  EXPECT_TRUE(std::holds_alternative<StopFrame>(frame));
}

TEST(PoolProtocolTest, ResultFrameKeepsValuesAndErrors) {
  ResultFrameWriter sent(3, 3);
  sent.AddValue("value");
  sent.AddError(absl::AbortedError("worker died"));
  sent.AddValue("");
  const std::string bytes = sent.Release();
  EXPECT_THAT(ResultFrameBatch(bytes), ::mproc::testing::HoldsValue(3u));
  ASSERT_OK_AND_ASSIGN(ResultFrame got, DecodeResultFrame(bytes));
  EXPECT_EQ(got.batch, 3u);
  ASSERT_EQ(got.items.size(), 3u);
  EXPECT_THAT(got.items[0], ::mproc::testing::HoldsValue("value"));
  EXPECT_THAT(got.items[1],
              StatusIs(absl::StatusCode::kAborted, HasSubstr("worker died")));
  EXPECT_THAT(got.items[2], ::mproc::testing::HoldsValue(""));
}

TEST(PoolProtocolTest, MalformedFramesAreRefused) {
  EXPECT_THAT(DecodeWorkerFrame(""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      DecodeWorkerFrame(std::string("\x09", 1)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown kind")));
  EXPECT_THAT(DecodeResultFrame(EncodeStopFrame()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ResultFrameBatch(EncodeStopFrame()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  const std::string task =
      EncodeTaskFrame(1, TaskReference{.name = "f"}, {"abc"});
  for (size_t cut = 0; cut < task.size(); ++cut) {
    EXPECT_THAT(DecodeWorkerFrame(task.substr(0, cut)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << "cut at " << cut;
  }
  ResultFrameWriter bad_code(1, 1);
  bad_code.AddError(absl::InternalError("x"));
  std::string bytes = bad_code.Release();
  bytes[4] = 99;  // kind, batch, count, failed flag, then the code
  EXPECT_THAT(DecodeResultFrame(bytes),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("status code 99")));
}

}  // namespace
}  // namespace mproc::internal
