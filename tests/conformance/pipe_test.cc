// Message passing (api/pipe.h, api/wait.h): Pipe round trips through
// children, peers that go, timeouts, Wait over pipes and processes, one-way
// pipes, and nothing left behind.
#include "api/pipe.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/wait.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/status_matchers.h"
#include "workloads/message_passing.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::HoldsValue;
using ::mproc::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::Duration kWait = ConformanceTest::kDeadline;
// A wait that is meant to run out: nothing can arrive during it.
constexpr absl::Duration kShort = absl::Milliseconds(20);

// A pipe whose second end runs EchoMessages in a started child; the parent
// has closed its copy of that end.
struct EchoChild {
  Connection connection;
  Process child;
};

EchoChild StartEcho(const Context& ctx) {
  absl::StatusOr<std::pair<Connection, Connection>> pipe = ctx.Pipe();
  EXPECT_OK(pipe.status());
  auto& [mine, theirs] = *pipe;
  Process child = ctx.NewProcess(Target(&workloads::EchoMessages, theirs));
  EXPECT_OK(child.Start());
  theirs.Close();
  return {mine, std::move(child)};
}

// Closes the parent's end (the echo child then sees end-of-stream and
// returns) and joins the child, which must have succeeded.
void StopEcho(EchoChild& echo) {
  echo.connection.Close();
  EXPECT_OK(echo.child.Join(kWait));
  EXPECT_EQ(echo.child.exitcode(), 0);
}

template <typename T>
void ExpectRoundTrip(const Connection& connection, const T& value) {
  ASSERT_OK(connection.Send(value));
  EXPECT_THAT(connection.Recv<T>(kWait), HoldsValue(value));
}

TEST_P(ConformanceTest, PipeRoundTripsEveryCodecTypeThroughAChild) {
  EchoChild echo = StartEcho(ctx());
  const Connection& c = echo.connection;
  ExpectRoundTrip(c, true);
  ExpectRoundTrip(c, false);
  ExpectRoundTrip(c, std::numeric_limits<int8_t>::min());
  ExpectRoundTrip(c, std::numeric_limits<uint8_t>::max());
  ExpectRoundTrip(c, std::numeric_limits<int16_t>::min());
  ExpectRoundTrip(c, std::numeric_limits<uint16_t>::max());
  ExpectRoundTrip(c, std::numeric_limits<int32_t>::min());
  ExpectRoundTrip(c, std::numeric_limits<uint32_t>::max());
  ExpectRoundTrip(c, std::numeric_limits<int64_t>::min());
  ExpectRoundTrip(c, std::numeric_limits<int64_t>::max());
  ExpectRoundTrip(c, std::numeric_limits<uint64_t>::max());
  ExpectRoundTrip(c, -0.0);
  ExpectRoundTrip(c, std::numeric_limits<double>::infinity());
  ExpectRoundTrip(c, 3.25);
  ExpectRoundTrip(c, std::string());
  ExpectRoundTrip(c, std::string("h\0llo", 5));
  ExpectRoundTrip(c, std::vector<int64_t>{1, -2, 3});
  ExpectRoundTrip(c, std::vector<std::string>{"a", "", "ccc"});
  ExpectRoundTrip(c, std::vector<std::vector<double>>{{1.5}, {}, {2, 3}});
  ExpectRoundTrip(c, std::vector<bool>{true, false, true});
  // NaN is not equal to itself: compare what arrives.
  ASSERT_OK(c.Send(std::nan("")));
  absl::StatusOr<double> nan = c.Recv<double>(kWait);
  ASSERT_OK(nan.status());
  EXPECT_TRUE(std::isnan(*nan));
  // Raw bytes, and messages larger than any socket or pipe buffer.
  ASSERT_OK(c.SendBytes(""));
  EXPECT_THAT(c.RecvBytes(kWait), HoldsValue(""));
  std::string megabyte(1 << 20, '\0');
  for (size_t i = 0; i < megabyte.size(); ++i) {
    megabyte[i] = static_cast<char>(i * 131 + (i >> 9));
  }
  ExpectRoundTrip(c, megabyte);
  ASSERT_OK(c.SendBytes(megabyte));
  EXPECT_THAT(c.RecvBytes(kWait), HoldsValue(megabyte));
  ExpectRoundTrip(c, std::vector<int64_t>(200'000, -7));
  StopEcho(echo);
}

TEST_P(ConformanceTest, PipeCarriesManyMessagesInOrderFromAChild) {
  ASSERT_OK_AND_ASSIGN(auto pipe_mine, ctx().Pipe());
  auto& [mine, theirs] = pipe_mine;
  constexpr int64_t kCount = 10'000;
  Process child =
      ctx().NewProcess(Target(&workloads::SendCount, theirs, kCount));
  ASSERT_OK(child.Start());
  theirs.Close();
  for (int64_t i = 0; i < kCount; ++i) {
    ASSERT_THAT(mine.Recv<int64_t>(kWait), HoldsValue(i));
  }
  // Every message is in; the child ends and its end goes with it.
  EXPECT_THAT(
      mine.Recv<int64_t>(kWait),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("end of stream")));
  ASSERT_OK(child.Join(kWait));
  EXPECT_EQ(child.exitcode(), 0);
}

TEST_P(ConformanceTest, APeerThatEndedIsUnavailableNotAHangOrASignal) {
  ASSERT_OK_AND_ASSIGN(auto pipe_mine, ctx().Pipe());
  auto& [mine, theirs] = pipe_mine;
  Process child = RunToEnd(Target(&workloads::ReturnAtOnce, theirs));
  EXPECT_EQ(child.exitcode(), 0);
  // The child let go of its hold when it ended; this process's goes now.
  theirs.Close();
  // Writing to a peer that has gone: an error, never SIGPIPE (which would
  // end this test process).
  EXPECT_THAT(mine.Send(int64_t{1}),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("other end of the pipe has been closed")));
  EXPECT_THAT(mine.SendBytes(std::string(1 << 20, 'x')),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(mine.Recv<int64_t>(kWait),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(mine.Poll(), HoldsValue(true));  // a Recv would not wait
  EXPECT_THAT(mine.Recv<int64_t>(kWait),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_P(ConformanceTest, APeerKilledWhileBlockedInRecvIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(auto pipe_mine, ctx().Pipe());
  auto& [mine, theirs] = pipe_mine;
  Process child = ctx().NewProcess(Target(&workloads::BlockInRecv, theirs));
  ASSERT_OK(child.Start());
  theirs.Close();
  // Blocked in Recv (or about to be): a cancellation point on the thread
  // backend, a plain kill elsewhere.
  ASSERT_OK(child.Kill());
  ASSERT_OK(child.Join(kWait));
  EXPECT_EQ(child.exitcode(), -9);
  EXPECT_THAT(mine.Recv<int64_t>(kWait),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(mine.Send(int64_t{1}), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_P(ConformanceTest, AChildBlockedInRecvCanBeTerminated) {
  ASSERT_OK_AND_ASSIGN(auto pipe_mine, ctx().Pipe());
  auto& [mine, theirs] = pipe_mine;
  Process child = ctx().NewProcess(Target(&workloads::BlockInRecv, theirs));
  ASSERT_OK(child.Start());
  ASSERT_OK(child.Terminate());
  ASSERT_OK(child.Join(kWait));
  EXPECT_EQ(child.exitcode(), -15);
  // This process still holds `theirs`: the peer has not gone.
  EXPECT_THAT(mine.Poll(), HoldsValue(false));
  ASSERT_OK(theirs.SendBytes("still here"));
  EXPECT_THAT(mine.RecvBytes(kWait), HoldsValue("still here"));
}

TEST_P(ConformanceTest, PollAndRecvTimeOutWithNothingSent) {
  ASSERT_OK_AND_ASSIGN(auto pipe_a, ctx().Pipe());
  auto& [a, b] = pipe_a;
  EXPECT_THAT(a.Poll(), HoldsValue(false));
  EXPECT_THAT(a.Poll(kShort), HoldsValue(false));
  EXPECT_THAT(a.Recv<int64_t>(absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(a.Recv<int64_t>(kShort),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(a.RecvBytes(absl::Now() + kShort),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  // Both ways, in this one process.
  ASSERT_OK(b.Send(std::string("to a")));
  ASSERT_OK(a.Send(int64_t{7}));
  EXPECT_THAT(a.Poll(kWait), HoldsValue(true));
  EXPECT_THAT(a.Recv<std::string>(kWait), HoldsValue("to a"));
  EXPECT_THAT(a.Poll(), HoldsValue(false));
  EXPECT_THAT(b.Recv<int64_t>(kWait), HoldsValue(7));
  // A message that is not a T is consumed and refused.
  ASSERT_OK(b.Send(std::string("not a bool")));
  EXPECT_THAT(a.Recv<bool>(kWait),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(a.Poll(), HoldsValue(false));
}

TEST_P(ConformanceTest, WaitReturnsTheReadyPipesAndProcesses) {
  ASSERT_OK_AND_ASSIGN(auto pipe_data, ctx().Pipe());
  auto& [data, data_peer] = pipe_data;
  ASSERT_OK_AND_ASSIGN(auto pipe_control, ctx().Pipe());
  auto& [control, control_peer] = pipe_control;
  Process child =
      ctx().NewProcess(Target(&workloads::ReturnOnMessage, control_peer));
  ASSERT_OK(child.Start());
  control_peer.Close();
  EXPECT_THAT(Wait({data, control, child}, kShort), HoldsValue(IsEmpty()));
  EXPECT_THAT(Wait({data, control, child}, absl::ZeroDuration()),
              HoldsValue(IsEmpty()));
  ASSERT_OK(data_peer.Send(int64_t{1}));
  EXPECT_THAT(Wait({data, control, child}, kWait), HoldsValue(ElementsAre(0)));
  EXPECT_THAT(Wait({control, child, data}, kWait), HoldsValue(ElementsAre(2)));
  EXPECT_THAT(data.Recv<int64_t>(kWait), HoldsValue(1));
  // The child ends once it has a message; its end of `control` with it.
  ASSERT_OK(control.SendBytes("go"));
  EXPECT_THAT(Wait({data, child}, kWait), HoldsValue(ElementsAre(1)));
  EXPECT_THAT(Wait({data, control}, kWait), HoldsValue(ElementsAre(1)));
  ASSERT_OK(child.Join(kWait));
  EXPECT_EQ(child.exitcode(), 0);
  // Joined: ready at once, as is a pipe whose peer has gone.
  EXPECT_THAT(Wait({child, data, control}, absl::ZeroDuration()),
              HoldsValue(ElementsAre(0, 2)));
}

TEST_P(ConformanceTest, WaitRefusesWhatItCannotWaitFor) {
  ASSERT_OK_AND_ASSIGN(auto pipe_reader, ctx().Pipe(false));
  auto& [reader, writer] = pipe_reader;
  EXPECT_THAT(
      Wait({writer}, kShort),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("write-only")));
  Process unstarted =
      ctx().NewProcess(Target(&workloads::ReturnAtOnce, reader));
  EXPECT_THAT(Wait({reader, unstarted}, kShort),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("started process")));
  reader.Close();
  EXPECT_THAT(Wait({reader}, kShort),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("handle is closed")));
  EXPECT_THAT(Wait(gsl::span<const WaitObject>(), kShort),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(ConformanceTest, AOneWayPipeSendsOnlyFromItsSecondEnd) {
  ASSERT_OK_AND_ASSIGN(auto pipe_reader, ctx().Pipe(/*duplex=*/false));
  auto& [reader, writer] = pipe_reader;
  EXPECT_TRUE(reader.readable());
  EXPECT_FALSE(reader.writable());
  EXPECT_FALSE(writer.readable());
  EXPECT_TRUE(writer.writable());
  EXPECT_THAT(reader.Send(int64_t{1}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("connection is read-only")));
  EXPECT_THAT(writer.Recv<int64_t>(kShort),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("connection is write-only")));
  EXPECT_THAT(writer.Poll(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                      HasSubstr("connection is write-only")));
  // The directions travel with the end: a child sends on the writer.
  Process child =
      ctx().NewProcess(Target(&workloads::SendCount, writer, int64_t{3}));
  ASSERT_OK(child.Start());
  writer.Close();
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_THAT(reader.Recv<int64_t>(kWait), HoldsValue(i));
  }
  EXPECT_THAT(reader.Recv<int64_t>(kWait),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(child.Join(kWait));
  EXPECT_EQ(child.exitcode(), 0);
  // The reader cannot send even from a child.
  ASSERT_OK_AND_ASSIGN(auto pipe_reader2, ctx().Pipe(false));
  auto& [reader2, writer2] = pipe_reader2;
  Process refused =
      RunToEnd(Target(&workloads::SendCount, reader2, int64_t{1}));
  EXPECT_EQ(refused.exitcode(), 1);
}

TEST_P(ConformanceTest, AClosedConnectionRefusesEverything) {
  ASSERT_OK_AND_ASSIGN(auto pipe_a, ctx().Pipe());
  auto& [a, b] = pipe_a;
  Connection copy = a;
  a.Close();
  a.Close();                   // idempotent
  EXPECT_TRUE(copy.closed());  // copies are the same connection
  const auto closed = StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("handle is closed"));
  EXPECT_THAT(copy.Send(int64_t{1}), closed);
  EXPECT_THAT(copy.SendBytes("x"), closed);
  EXPECT_THAT(copy.Recv<int64_t>(kShort), closed);
  EXPECT_THAT(copy.RecvBytes(kShort), closed);
  EXPECT_THAT(copy.Poll(), closed);
  // Its peer sees end-of-stream: nothing else held `a`.
  EXPECT_THAT(b.Recv<int64_t>(kWait), StatusIs(absl::StatusCode::kUnavailable));
  // A closed end cannot be handed to a child; nothing is started.
  Process child = ctx().NewProcess(Target(&workloads::ReturnAtOnce, a));
  EXPECT_THAT(child.Start(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                      HasSubstr("handle is closed")));
  EXPECT_FALSE(child.IsAlive());
}

TEST_P(ConformanceTest, AConnectionReachesAGrandchild) {
  ASSERT_OK_AND_ASSIGN(auto pipe_mine, ctx().Pipe());
  auto& [mine, theirs] = pipe_mine;
  Process child =
      ctx().NewProcess(Target(&workloads::EchoInGrandchild, theirs));
  ASSERT_OK(child.Start());
  theirs.Close();
  ExpectRoundTrip(mine, std::string("via a grandchild"));
  mine.Close();
  ASSERT_OK(child.Join(kWait));
  EXPECT_EQ(child.exitcode(), 0);
}

TEST_P(ConformanceTest, AConnectionEncodedOutsideATargetCannotBeDecoded) {
  ASSERT_OK_AND_ASSIGN(auto pipe_a, ctx().Pipe());
  auto& [a, b] = pipe_a;
  // As a Manager list would encode it: no launch carries its end.
  const std::string bytes = EncodeValue(a);
  EXPECT_THAT(DecodeValue<Connection>(bytes),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("as a target argument")));
}

TEST_P(ConformanceTest, ConnectionsLeaveNothingBehind) {
  // Closed, dropped without Close, and handed to children that ended: the
  // probe in TearDown finds every end released.
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK_AND_ASSIGN(auto pipe_a, ctx().Pipe(i % 2 == 0));
    auto& [a, b] = pipe_a;
    if (i % 3 == 0) a.Close();
  }
  ASSERT_OK_AND_ASSIGN(auto pipe_mine, ctx().Pipe());
  auto& [mine, theirs] = pipe_mine;
  Process child = RunToEnd(Target(&workloads::ReturnAtOnce, theirs));
  EXPECT_EQ(child.exitcode(), 0);
}

}  // namespace
}  // namespace mproc::conformance
