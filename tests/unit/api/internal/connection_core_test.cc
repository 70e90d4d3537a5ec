// ConnectionCore over a scripted channel end: framing, deadlines, peers that
// go, limits and the release of the end.
#include "api/internal/connection_core.h"

#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc::internal {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

// Writes go to `written`; each read returns the next scripted chunk (or as
// much of it as fits), then end-of-stream if `eof`, else kDeadlineExceeded.
class ScriptedEnd final : public ChannelEnd {
 public:
  absl::Status WriteAll(absl::string_view bytes) override {
    if (!write_error.ok()) return write_error;
    written.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  absl::StatusOr<size_t> ReadSomeUntil(gsl::span<char> buffer,
                                       absl::Time) override {
    ++reads;
    if (chunks.empty()) {
      if (eof) return size_t{0};
      return absl::DeadlineExceededError("nothing scripted");
    }
    std::string& chunk = chunks.front();
    const size_t n = std::min(buffer.size(), chunk.size());
    chunk.copy(buffer.data(), n);
    chunk.erase(0, n);
    if (chunk.empty()) chunks.pop_front();
    return n;
  }
  void Close() override { ++closes; }

  std::string written;
  std::deque<std::string> chunks;
  bool eof = false;
  absl::Status write_error;
  int reads = 0;
  int closes = 0;
};

std::string Frame(absl::string_view payload) {
  std::string frame;
  AppendFrame(payload, frame);
  return frame;
}

struct Fixture {
  explicit Fixture(bool readable = true, bool writable = true)
      : end(std::make_shared<ScriptedEnd>()),
        core(nullptr, end, readable, writable) {}
  std::shared_ptr<ScriptedEnd> end;
  ConnectionCore core;
};

TEST(ConnectionCoreTest, SendWritesOneLengthPrefixedFrame) {
  Fixture f;
  ASSERT_OK(f.core.Send("abc"));
  EXPECT_EQ(f.end->written, std::string("\x03\x00\x00\x00"
                                        "abc",
                                        7));
  ASSERT_OK(f.core.Send(""));
  EXPECT_EQ(f.end->written.size(), 11u);
}

TEST(ConnectionCoreTest, RecvKeepsAFrameCutByTheDeadlineForTheNextCall) {
  Fixture f;
  const std::string frame = Frame("hello");
  f.end->chunks = {frame.substr(0, 2)};
  EXPECT_THAT(f.core.Recv(absl::InfinitePast()),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  f.end->chunks = {frame.substr(2, 5)};
  EXPECT_THAT(f.core.Recv(absl::InfinitePast()),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  f.end->chunks = {frame.substr(7)};
  ASSERT_OK_AND_ASSIGN(std::string payload, f.core.Recv(absl::InfinitePast()));
  EXPECT_EQ(payload, "hello");
}

TEST(ConnectionCoreTest, FramesReadAheadAreReturnedWithoutReading) {
  Fixture f;
  f.end->chunks = {Frame("one") + Frame("two")};
  ASSERT_OK_AND_ASSIGN(std::string first, f.core.Recv(absl::InfinitePast()));
  EXPECT_EQ(first, "one");
  EXPECT_TRUE(f.core.HasBufferedBytes());
  const int reads = f.end->reads;
  ASSERT_OK_AND_ASSIGN(std::string second, f.core.Recv(absl::InfinitePast()));
  EXPECT_EQ(second, "two");
  EXPECT_EQ(f.end->reads, reads);
  EXPECT_FALSE(f.core.HasBufferedBytes());
}

TEST(ConnectionCoreTest, EndOfStreamIsUnavailableBetweenAndWithinMessages) {
  Fixture between;
  between.end->chunks = {Frame("last")};
  between.end->eof = true;
  ASSERT_OK(between.core.Recv(absl::InfiniteFuture()).status());
  EXPECT_THAT(
      between.core.Recv(absl::InfiniteFuture()),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("end of stream")));
  EXPECT_THAT(between.core.Recv(absl::InfiniteFuture()),
              StatusIs(absl::StatusCode::kUnavailable));

  Fixture within;
  within.end->chunks = {Frame("cut short").substr(0, 6)};
  within.end->eof = true;
  EXPECT_THAT(within.core.Recv(absl::InfiniteFuture()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("middle of a message")));
}

TEST(ConnectionCoreTest, AFrameOverTheLimitIsMalformed) {
  Fixture f;
  f.end->chunks = {std::string("\xff\xff\xff\xff", 4)};
  EXPECT_THAT(f.core.Recv(absl::InfinitePast()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ConnectionCoreTest, AMessageOverTheLimitIsRefusedWithNothingSent) {
  Fixture f;
  const std::string huge(kMaxMessageBytes + 1, 'x');
  EXPECT_THAT(f.core.Send(huge), StatusIs(absl::StatusCode::kResourceExhausted,
                                          HasSubstr("exceeds the limit")));
  EXPECT_TRUE(f.end->written.empty());
}

TEST(ConnectionCoreTest, APeerThatHasGoneIsUnavailableOnSend) {
  Fixture f;
  f.end->write_error = absl::UnavailableError("EPIPE");
  EXPECT_THAT(f.core.Send("x"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("other end of the pipe has been closed")));
}

TEST(ConnectionCoreTest, DirectionsAreEnforced) {
  Fixture reader(/*readable=*/true, /*writable=*/false);
  EXPECT_THAT(reader.core.Send("x"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("connection is read-only")));
  Fixture writer(/*readable=*/false, /*writable=*/true);
  EXPECT_THAT(writer.core.Recv(absl::InfinitePast()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("connection is write-only")));
  EXPECT_THAT(writer.core.Poll(absl::InfinitePast()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(ConnectionCoreTest, CloseReleasesTheEndOnceAndRefusesLaterCalls) {
  Fixture f;
  f.core.Close();
  f.core.Close();
  EXPECT_EQ(f.end->closes, 1);
  EXPECT_TRUE(f.core.closed());
  EXPECT_THAT(f.core.Send("x"), StatusIs(absl::StatusCode::kFailedPrecondition,
                                         HasSubstr("handle is closed")));
  EXPECT_THAT(f.core.Recv(absl::InfinitePast()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(ConnectionCoreTest, CloseDuringACallReleasesTheEndWhenTheCallEnds) {
  Fixture f;
  {
    ASSERT_OK_AND_ASSIGN(ConnectionCore::Use use,
                         f.core.BeginUse(/*reading=*/true));
    f.core.Close();
    EXPECT_EQ(f.end->closes, 0);  // still in use
  }
  EXPECT_EQ(f.end->closes, 1);
}

TEST(ConnectionCoreTest, DestroyingTheCoreReleasesTheEnd) {
  auto end = std::make_shared<ScriptedEnd>();
  { ConnectionCore core(nullptr, end, true, true); }
  EXPECT_EQ(end->closes, 1);
}

TEST(ConnectionCoreTest, DecodeRefusesMalformedDirections) {
  ByteWriter out;
  out.PutVarint(0);  // neither readable nor writable
  out.PutVarint(0);
  ByteReader in(out.data());
  EXPECT_THAT(
      DecodeConnectionCore(in),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("directions")));
}

}  // namespace
}  // namespace mproc::internal
