// Unit tests for api/internal/manager_server.h: one server in this process on
// the thread backend's in-memory transport, with its limits and thread
// factory set by the test (issue 7: connection release, caps, handshake
// deadline, thread-creation failure, mutual authentication).
#include "api/internal/manager_server.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "api/backend.h"
#include "api/internal/manager_client.h"
#include "api/internal/manager_protocol.h"
#include "backends/thread/thread_resources.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"

namespace mproc::internal {
namespace {

using ::mproc::testing::StatusIs;
using ::mproc::testing::WaitUntil;
using ::testing::HasSubstr;

constexpr absl::Duration kDeadline = absl::Seconds(30);

std::string Request(Op op) {
  ByteWriter out;
  out.PutVarint(static_cast<uint64_t>(op));
  return out.Release();
}

// A server running ServeManager on a thread of this process.
class ServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options = {}) {
    backend_ = FindBackend("thread");
    ASSERT_NE(backend_, nullptr);
    ASSERT_OK_AND_ASSIGN(listener_, backend_->Listen());
    endpoint_.backend = "thread";
    endpoint_.address = listener_->address();
    endpoint_.authkey = std::string(kAuthkeySize, '\x42');
    server_ = std::thread([this, options = std::move(options)] {
      served_ = ServeManager(*listener_, *backend_, endpoint_.authkey, options);
    });
  }

  void TearDown() override {
    if (!server_.joinable()) return;
    listener_->Close();
    server_.join();
    EXPECT_THAT(served_, StatusIs(absl::StatusCode::kCancelled));
  }

  absl::StatusOr<std::shared_ptr<ManagerConnection>> Open() {
    return ManagerConnection::Open(endpoint_);
  }

  // Opens a connection, retrying while the server refuses for want of room
  // (a connection just closed is released when the server sees its end).
  absl::StatusOr<std::shared_ptr<ManagerConnection>> WaitForOpen() {
    absl::StatusOr<std::shared_ptr<ManagerConnection>> result;
    WaitUntil(
        [&] {
          result = Open();
          return !absl::IsResourceExhausted(result.status());
        },
        kDeadline);
    return result;
  }

  Backend* backend_ = nullptr;
  std::unique_ptr<Listener> listener_;
  ManagerEndpoint endpoint_;
  std::thread server_;
  absl::Status served_;
};

// Issue 7.3: a connection whose thread cannot be made is refused; the
// server goes on.
TEST_F(ServerTest, ThreadCreationFailureRefusesThatConnectionOnly) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  ServerOptions options;
  options.start_thread = [calls](std::function<void()> body) {
    if (calls->fetch_add(1) == 0) {
      throw std::system_error(
          std::make_error_code(std::errc::resource_unavailable_try_again),
          "injected");
    }
    return std::thread(std::move(body));
  };
  Start(std::move(options));
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("cannot start a thread")));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ManagerConnection> second, Open());
  EXPECT_OK(second->Call(Request(Op::kCreateList)));
  second->Close();
}

// Issue 7.1: a finished connection releases its channel (and thread) at
// once; with a cap of 4 live connections, 40 sequential clients all get in.
TEST_F(ServerTest, FinishedConnectionsAreReleased) {
  ServerOptions options;
  options.limits.max_connections = 4;
  Start(std::move(options));
  const int64_t baseline = thread::OpenTransportCount();
  for (int i = 0; i < 40; ++i) {
    absl::StatusOr<std::shared_ptr<ManagerConnection>> connection =
        WaitForOpen();
    ASSERT_OK(connection) << "client " << i;
    ASSERT_OK((*connection)->Call(Request(Op::kCreateList)));
    (*connection)->Close();
  }
  EXPECT_TRUE(WaitUntil(
      [&] { return thread::OpenTransportCount() <= baseline; }, kDeadline))
      << thread::OpenTransportCount() - baseline << " channels still open";
}

// Issue 7.2: past the cap a client is refused with a clear error.
TEST_F(ServerTest, ClientsPastTheCapAreRefusedWithAClearError) {
  ServerOptions options;
  options.limits.max_connections = 2;
  Start(std::move(options));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ManagerConnection> a, Open());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ManagerConnection> b, Open());
  EXPECT_THAT(Open(), StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("too many connections")));
  EXPECT_OK(a->Call(Request(Op::kCreateList)));  // the others go on
  b->Close();
  // Once b's end is seen by the server, a new client gets in.
  EXPECT_OK(WaitForOpen());
  a->Close();
}

// Issue 7.4: a client that never answers the challenge is cut off at the
// handshake deadline; others are served.
TEST_F(ServerTest, SilentClientIsDisconnectedAtTheHandshakeDeadline) {
  ServerOptions options;
  options.limits.handshake_timeout = absl::Milliseconds(50);
  Start(std::move(options));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Channel> silent,
                       backend_->Connect(endpoint_.address));
  absl::Notification ended;
  std::atomic<bool> gave_up{false};
  // Bounds the test if the server never hangs up (closing our end wakes
  // the read below).
  std::thread guard([&] {
    if (!ended.WaitForNotificationWithTimeout(kDeadline)) {
      gave_up.store(true);
      silent->Close();
    }
  });
  FrameReader reader(*silent);
  while (true) {
    absl::StatusOr<std::optional<std::string>> frame = reader.Next();
    if (!frame.ok() || !frame->has_value()) break;
  }
  ended.Notify();
  guard.join();
  EXPECT_FALSE(gave_up.load())
      << "the server kept a client that never said Hello";
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ManagerConnection> other, Open());
  EXPECT_OK(other->Call(Request(Op::kCreateList)));
  other->Close();
  silent->Close();
}

// Issue 7.4: before the handshake a frame may not claim more than Hello
// needs.
TEST_F(ServerTest, LargeFrameBeforeTheHandshakeClosesTheConnection) {
  Start();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Channel> raw,
                       backend_->Connect(endpoint_.address));
  ByteWriter header;
  header.PutFixed32(64 << 20);
  ASSERT_OK(raw->WriteAll(header.data()));
  FrameReader reader(*raw);
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> challenge, reader.Next());
  ASSERT_TRUE(challenge.has_value());
  absl::StatusOr<std::optional<std::string>> end = reader.Next();
  EXPECT_TRUE(!end.ok() || !end->has_value()) << "the server read on";
  raw->Close();
}

// Issue 7.6: a server that does not hold the key cannot pass for the
// Manager.
TEST_F(ServerTest, ClientRefusesAServerThatCannotProveTheKey) {
  Start();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Listener> fake, backend_->Listen());
  ManagerEndpoint victim;
  victim.backend = endpoint_.backend;
  victim.authkey = endpoint_.authkey;
  victim.address = fake->address();
  absl::StatusOr<std::shared_ptr<ManagerConnection>> opened;
  std::thread client([&] { opened = ManagerConnection::Open(victim); });
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Channel> accepted, fake->Accept());
  FrameReader reader(*accepted);
  std::string frames;
  AppendFrame(EncodeReply(absl::OkStatus(), std::string(kNonceSize, 'n')),
              frames);
  ASSERT_OK(accepted->WriteAll(frames));
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> hello, reader.Next());
  frames.clear();
  AppendFrame(EncodeReply(absl::OkStatus(), std::string(32, 'p')), frames);
  ASSERT_OK(accepted->WriteAll(frames));
  client.join();
  EXPECT_THAT(opened, StatusIs(absl::StatusCode::kUnauthenticated,
                               HasSubstr("could not prove")));
  accepted->Close();
  fake->Close();
}

}  // namespace
}  // namespace mproc::internal
