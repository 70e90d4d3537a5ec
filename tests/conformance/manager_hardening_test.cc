// The Manager under stress and attack (issue 7): frame limits where frames
// are built, connections that break and come back, handshakes that are
// replayed, and connections that finish and must be released.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "api/backend.h"
#include "api/internal/manager_client.h"
#include "api/internal/manager_protocol.h"
#include "api/internal/manager_server.h"
#include "api/internal/process_state.h"
#include "api/manager.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/status_matchers.h"
#include "workloads/workloads.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::HoldsValue;
using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

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
  absl::StatusOr<size_t> ReadSomeUntil(gsl::span<char> buffer,
                                       absl::Time deadline) override {
    return inner_->ReadSomeUntil(buffer, deadline);
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

// Issue 7.1: a connection that ends is released at once, so a server that
// allows 4 live connections serves 12 short-lived children in a row.
TEST_P(ConformanceTest, FinishedConnectionsLeaveRoomForNewOnes) {
  std::optional<internal::ScopedServerLimitsForTesting> limits;
  limits.emplace(internal::ServerLimits{.max_connections = 4});
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  limits.reset();
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  constexpr int kChildren = 12;
  for (int i = 0; i < kChildren; ++i) {
    Process child = RunToEnd(Target(&workloads::AppendRange, i, 1, list));
    ASSERT_EQ(child.exitcode(), 0) << "child " << i;
  }
  EXPECT_THAT(list.Size(), HoldsValue(kChildren));
  ASSERT_OK(manager.Shutdown());
}

// Issue 7.4: a client that connects and never answers the challenge is
// disconnected at the handshake deadline.
TEST_P(ConformanceTest, SilentClientIsDisconnectedAtTheHandshakeDeadline) {
  std::optional<internal::ScopedServerLimitsForTesting> limits;
  limits.emplace(
      internal::ServerLimits{.handshake_timeout = absl::Milliseconds(100)});
  CaptureStderr();  // before the server starts: it inherits our stderr
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  limits.reset();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Channel> silent,
                       ctx().backend().Connect(manager.address()));
  absl::Notification ended;
  std::atomic<bool> gave_up{false};
  // Bounds the test if the server never hangs up.
  std::thread guard([&] {
    if (!ended.WaitForNotificationWithTimeout(kDeadline)) {
      gave_up.store(true);
      silent->Close();
    }
  });
  internal::FrameReader reader(*silent);
  while (true) {
    absl::StatusOr<std::optional<std::string>> frame = reader.Next();
    if (!frame.ok() || !frame->has_value()) break;
  }
  ended.Notify();
  guard.join();
  silent->Close();
  silent.reset();
  EXPECT_FALSE(gave_up.load()) << "the server kept a silent client";
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  EXPECT_OK(list.Append(1));
  ASSERT_OK(manager.Shutdown());
  EXPECT_THAT(GetCapturedStderr(), HasSubstr("no handshake within"));
}

}  // namespace
}  // namespace mproc::conformance
