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
  EXPECT_EQ(task.items, items);
}

absl::StatusOr<std::string> FakeThunk(FunctionKey, ByteReader&) { return ""; }

TEST(PoolProtocolTest, TaskFrameByAddressRoundTrips) {
  TaskReference reference;
  reference.by_address = {.thunk = &FakeThunk, .function = 0x1234};
  ASSERT_OK_AND_ASSIGN(auto frame,
                       DecodeWorkerFrame(EncodeTaskFrame(1, reference, {"x"})));
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
  ResultFrame sent{.batch = 3};
  sent.items.push_back(std::string("value"));
  sent.items.push_back(absl::AbortedError("worker died"));
  sent.items.push_back(std::string());
  ASSERT_OK_AND_ASSIGN(ResultFrame got,
                       DecodeResultFrame(EncodeResultFrame(sent)));
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
  const std::string task =
      EncodeTaskFrame(1, TaskReference{.name = "f"}, {"abc"});
  for (size_t cut = 0; cut < task.size(); ++cut) {
    EXPECT_THAT(DecodeWorkerFrame(task.substr(0, cut)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << "cut at " << cut;
  }
  ResultFrame bad_code{.batch = 1};
  bad_code.items.push_back(absl::InternalError("x"));
  std::string bytes = EncodeResultFrame(bad_code);
  bytes[4] = 99;  // kind, batch, count, failed flag, then the code
  EXPECT_THAT(DecodeResultFrame(bytes),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("status code 99")));
}

}  // namespace
}  // namespace mproc::internal
