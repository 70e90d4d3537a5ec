// The Manager under stress and attack (issue 7): frame limits where frames
// are built, connections that break and come back, handshakes that are
// replayed, and connections that finish and must be released.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/backend.h"
#include "api/internal/manager_client.h"
#include "api/internal/manager_protocol.h"
#include "api/internal/process_state.h"
#include "api/manager.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/status_matchers.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

MATCHER_P(HoldsValue, matcher, "is OK and holds a value that matches") {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

// Closes this process's cached connection to `manager`, as a connection cut
// by the network or the peer would be.
void BreakCachedConnection(const Manager& manager) {
  std::shared_ptr<internal::ManagerConnection> connection =
      internal::CurrentState().FindConnection(manager.address());
  ASSERT_NE(connection, nullptr) << "no connection to break";
  connection->Close();
}

TEST_P(ConformanceTest, ExtendLargerThanAFrameIsSplitAndOversizedReplyFails) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> list,
                       manager.List<std::string>());
  // 70 MiB in one Extend: more than one frame may carry.
  constexpr int kItems = 70;
  const std::vector<std::string> items(kItems, std::string(1 << 20, 'x'));
  ASSERT_OK(list.Extend(items));
  EXPECT_THAT(list.Size(), HoldsValue(kItems));
  // The whole list does not fit in one reply: that call alone fails...
  EXPECT_THAT(list.Snapshot(), StatusIs(absl::StatusCode::kResourceExhausted,
                                        HasSubstr("too large for one reply")));
  // ... and the connection goes on.
  EXPECT_THAT(list.Size(), HoldsValue(kItems));
  ASSERT_OK_AND_ASSIGN(std::string last, list.Get(-1));
  EXPECT_EQ(last.size(), size_t{1} << 20);
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, OversizedItemFailsThatCallAloneAtTheClient) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> list,
                       manager.List<std::string>());
  ASSERT_OK(list.Append("before"));
  EXPECT_THAT(
      list.Append(std::string(internal::kMaxFramePayload, 'y')),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("too large")));
  ASSERT_OK(list.Append("after"));
  EXPECT_THAT(list.Snapshot(),
              HoldsValue(::testing::ElementsAre("before", "after")));
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ABrokenConnectionIsReplacedByTheNextCall) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));
  EXPECT_THAT(list.Size(), HoldsValue(1));
  BreakCachedConnection(manager);
  EXPECT_THAT(list.Size(), HoldsValue(1));
  ASSERT_OK(list.Append(2));
  EXPECT_THAT(list.Size(), HoldsValue(2));
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ShutdownAfterABrokenConnectionStopsTheServerCleanly) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));
  EXPECT_THAT(list.Size(), HoldsValue(1));
  BreakCachedConnection(manager);
  // The server is healthy: it is asked to stop on a new connection, and ends
  // with exit code 0 (not terminated after a timeout).
  EXPECT_OK(manager.Shutdown());
}

// A Channel that passes everything through and records what was written.
class RecordingChannel : public Channel {
 public:
  RecordingChannel(std::unique_ptr<Channel> inner, std::string& written)
      : inner_(std::move(inner)), written_(written) {}
  absl::Status WriteAll(absl::string_view bytes) override {
    written_.append(bytes.data(), bytes.size());
    return inner_->WriteAll(bytes);
  }
  absl::StatusOr<size_t> ReadSome(gsl::span<char> buffer) override {
    return inner_->ReadSome(buffer);
  }
  void Close() override { inner_->Close(); }

 private:
  std::unique_ptr<Channel> inner_;
  std::string& written_;
};

TEST_P(ConformanceTest, ReplayedHandshakeIsRefused) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  internal::ManagerEndpoint endpoint;
  endpoint.backend = std::string(ctx().backend().name());
  endpoint.address = manager.address();
  // A genuine client's handshake, recorded. The key itself is what a proxy
  // carries; a replay must not need it.
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  {
    const std::string encoded = EncodeValue(list);
    ByteReader in(encoded);
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<internal::ManagerEndpoint> decoded,
                         internal::DecodeEndpoint(in));
    endpoint.authkey = decoded->authkey;
  }
  std::string recorded;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Channel> raw,
                         ctx().backend().Connect(manager.address()));
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<internal::ManagerConnection> genuine,
                         internal::ManagerConnection::OpenOn(
                             endpoint, std::make_unique<RecordingChannel>(
                                           std::move(raw), recorded)));
    genuine->Close();
  }
  ASSERT_FALSE(recorded.empty());
  // The same bytes on a new connection, then a request that would create a
  // list if the replay had been accepted.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Channel> replay,
                       ctx().backend().Connect(manager.address()));
  ByteWriter create;
  create.PutVarint(static_cast<uint64_t>(internal::Op::kCreateList));
  std::string attack = recorded;
  internal::AppendFrame(create.data(), attack);
  ASSERT_OK(replay->WriteAll(attack));
  internal::FrameReader reader(*replay);
  while (true) {
    absl::StatusOr<std::optional<std::string>> frame = reader.Next();
    if (!frame.ok() || !frame->has_value()) break;  // the server hung up
    absl::string_view body;
    if (!internal::DecodeReply(**frame, body).ok()) continue;
    ByteReader id(body);
    const bool created = id.GetVarint().ok() && id.empty();
    ASSERT_FALSE(created) << "the replayed handshake was accepted";
  }
  replay->Close();
  ASSERT_OK(manager.Shutdown());
}

}  // namespace
}  // namespace mproc::conformance
