// Unit tests for api/internal/manager_protocol.h: frames over a Channel,
// replies, and the authkey comparison.
#include "api/internal/manager_protocol.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "api/backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace mproc::internal {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

// A Channel that hands out `input` at most `chunk` bytes per ReadSome, then
// reports `end` (OK: end of stream).
class FakeChannel : public Channel {
 public:
  FakeChannel(std::string input, size_t chunk,
              absl::Status end = absl::OkStatus())
      : input_(std::move(input)), chunk_(chunk), end_(std::move(end)) {}

  absl::Status WriteAll(absl::string_view bytes) override {
    written_.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  // Never blocks, so the deadline never matters.
  absl::StatusOr<size_t> ReadSomeUntil(gsl::span<char> buffer,
                                       absl::Time) override {
    if (position_ == input_.size()) {
      if (!end_.ok()) return end_;
      return 0;
    }
    const size_t n =
        std::min({chunk_, buffer.size(), input_.size() - position_});
    std::copy_n(input_.data() + position_, n, buffer.data());
    position_ += n;
    return n;
  }
  void Close() override {}

 private:
  std::string input_;
  size_t chunk_;
  absl::Status end_;
  size_t position_ = 0;
  std::string written_;
};

std::vector<std::string> SamplePayloads() {
  std::vector<std::string> payloads = {"", "a", std::string("\0\xff\0", 3),
                                       std::string(70000, 'p')};
  for (int i = 0; i < 100; ++i)
    payloads.push_back(std::string(i % 13, 'a' + i % 26));
  return payloads;
}

// Reads every frame of `stream`, `chunk` bytes per read.
absl::StatusOr<std::vector<std::string>> ReadFrames(std::string stream,
                                                    size_t chunk) {
  FakeChannel channel(std::move(stream), chunk);
  FrameReader reader(channel);
  std::vector<std::string> frames;
  while (true) {
    absl::StatusOr<std::optional<std::string>> frame = reader.Next();
    if (!frame.ok()) return frame.status();
    if (!frame->has_value()) return frames;
    frames.push_back(**std::move(frame));
  }
}

TEST(ManagerProtocolTest, FrameIsALittleEndianLengthThenThePayload) {
  std::string out = "prefix";
  AppendFrame("abc", out);
  EXPECT_EQ(out, std::string("prefix\x03\0\0\0abc", 13));
  std::string big;
  AppendFrame(std::string(0x10203, 'x'), big);
  EXPECT_EQ(big.substr(0, 4), std::string("\x03\x02\x01\0", 4));
}

TEST(ManagerProtocolTest, FramesRoundTripOneByteAtATime) {
  const std::vector<std::string> payloads = SamplePayloads();
  std::string stream;
  for (const std::string& p : payloads) AppendFrame(p, stream);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> frames, ReadFrames(stream, 1));
  EXPECT_EQ(frames, payloads);
}

TEST(ManagerProtocolTest, FramesRoundTripWhateverTheReadSize) {
  const std::vector<std::string> payloads = SamplePayloads();
  std::string stream;
  for (const std::string& p : payloads) AppendFrame(p, stream);
  for (size_t chunk : {size_t{2}, size_t{3}, size_t{7}, size_t{4096},
                       size_t{65536}, stream.size()}) {
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> frames,
                         ReadFrames(stream, chunk));
    EXPECT_EQ(frames, payloads) << "chunk " << chunk;
  }
}

TEST(ManagerProtocolTest, CleanEndOfStreamBetweenFramesIsNullopt) {
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> none, ReadFrames("", 1));
  EXPECT_TRUE(none.empty());
  std::string stream;
  AppendFrame("only", stream);
  FakeChannel channel(stream, 1000);
  FrameReader reader(channel);
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> first, reader.Next());
  EXPECT_EQ(first, "only");
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> end, reader.Next());
  EXPECT_EQ(end, std::nullopt);
}

TEST(ManagerProtocolTest, EndOfStreamMidFrameIsUnavailable) {
  std::string stream;
  AppendFrame("complete", stream);
  AppendFrame("cut short", stream);
  const size_t second = stream.size() - (4 + 9);
  // Cut inside the second frame's header, and inside its payload.
  for (size_t cut : {second + 1, second + 3, second + 4, stream.size() - 1}) {
    for (size_t chunk : {size_t{1}, size_t{1000}}) {
      EXPECT_THAT(ReadFrames(stream.substr(0, cut), chunk),
                  StatusIs(absl::StatusCode::kUnavailable))
          << "cut at " << cut << ", chunk " << chunk;
    }
  }
}

TEST(ManagerProtocolTest, OversizedFrameIsInvalidArgument) {
  for (uint32_t size :
       {static_cast<uint32_t>(kMaxFramePayload + 1), uint32_t{0xffffffff}}) {
    ByteWriter header;
    header.PutFixed32(size);
    EXPECT_THAT(ReadFrames(header.data() + "xyz", 1000),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("exceeds the limit")));
  }
}

// Issue 7.4: four bytes must not make the reader allocate what they declare.
TEST(ManagerProtocolTest, DeclaredFrameSizeIsNotAllocatedBeforeBytesArrive) {
  ByteWriter header;
  header.PutFixed32(64 << 20);
  FakeChannel channel(header.data() + "abc", 1000);  // then the peer is gone
  FrameReader reader(channel);
  EXPECT_THAT(reader.Next(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LT(reader.buffer_capacity(), size_t{1} << 20);
}

TEST(ManagerProtocolTest, ChannelErrorsArePassedOn) {
  std::string stream;
  AppendFrame("first", stream);
  FakeChannel channel(stream + std::string("\x05\0", 2), 1000,
                      absl::CancelledError("cancelled"));
  FrameReader reader(channel);
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> first, reader.Next());
  EXPECT_EQ(first, "first");
  EXPECT_THAT(reader.Next(), StatusIs(absl::StatusCode::kCancelled));

  FakeChannel failing("", 1, absl::CancelledError("cancelled"));
  FrameReader at_start(failing);
  EXPECT_THAT(at_start.Next(), StatusIs(absl::StatusCode::kCancelled));
}

TEST(ManagerProtocolTest, OkReplyRoundTripsItsBody) {
  const std::string body("id\0\x07", 4);
  const std::string reply = EncodeReply(absl::OkStatus(), body);
  absl::string_view decoded_body;
  ASSERT_OK(DecodeReply(reply, decoded_body));
  EXPECT_EQ(decoded_body, body);

  absl::string_view empty_body = "unchanged";
  ASSERT_OK(DecodeReply(EncodeReply(absl::OkStatus(), ""), empty_body));
  EXPECT_EQ(empty_body, "");
}

TEST(ManagerProtocolTest, ErrorReplyRoundTripsCodeAndMessage) {
  for (const absl::Status& error :
       {absl::OutOfRangeError("list index 5 out of range"),
        absl::NotFoundError("no list 7"), absl::UnauthenticatedError("key"),
        absl::UnknownError("")}) {
    absl::string_view body = "unchanged";
    EXPECT_EQ(DecodeReply(EncodeReply(error, "ignored body"), body), error);
    EXPECT_EQ(body, "unchanged");
  }
}

TEST(ManagerProtocolTest, MalformedReplyIsInvalidArgument) {
  absl::string_view body;
  EXPECT_THAT(DecodeReply("", body),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ByteWriter unknown_code;
  unknown_code.PutVarint(99);
  unknown_code.PutBytes("what");
  EXPECT_THAT(DecodeReply(unknown_code.data(), body),
              StatusIs(absl::StatusCode::kInvalidArgument));
  const std::string error = EncodeReply(absl::NotFoundError("gone"), "");
  EXPECT_THAT(DecodeReply(error.substr(0, error.size() - 1), body),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ManagerProtocolTest, OnlyPipelinedWritesHaveNoReply) {
  EXPECT_FALSE(IsSynchronous(Op::kAppend));
  EXPECT_FALSE(IsSynchronous(Op::kExtend));
  EXPECT_FALSE(IsSynchronous(Op::kDictSet));
  EXPECT_FALSE(IsSynchronous(Op::kValueSet));
  for (Op op : {Op::kDictSetSync, Op::kDictGet, Op::kQueuePut, Op::kQueueGet,
                Op::kLockAcquire, Op::kLockRelease, Op::kEventWait,
                Op::kValueSetSync}) {
    EXPECT_TRUE(IsSynchronous(op)) << static_cast<int>(op);
  }
  for (Op op : {Op::kHello, Op::kCreateList, Op::kSize, Op::kGet, Op::kSnapshot,
                Op::kShutdown, Op::kSync}) {
    EXPECT_TRUE(IsSynchronous(op)) << static_cast<int>(op);
  }
}

TEST(ManagerProtocolTest, ConstantTimeEqualsComparesWholeStrings) {
  const std::string key(kAuthkeySize, '\x5a');
  EXPECT_TRUE(ConstantTimeEquals(key, key));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  std::string first = key;
  first.front() ^= 1;
  std::string last = key;
  last.back() ^= 0x80;
  EXPECT_FALSE(ConstantTimeEquals(key, first));
  EXPECT_FALSE(ConstantTimeEquals(key, last));
  EXPECT_FALSE(ConstantTimeEquals(key, key.substr(1)));
  EXPECT_FALSE(ConstantTimeEquals(key, key + '\x5a'));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

}  // namespace
}  // namespace mproc::internal
