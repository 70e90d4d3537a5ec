// The backend's Channel contract (api/backend.h), on a connection made with
// its own Listen, Connect and Accept in this process: reads with a deadline.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/status_matchers.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::HoldsValue;
using ::mproc::testing::StatusIs;

// A connected pair: `client` from Connect, `server` from Accept.
struct ConnectedPair {
  std::unique_ptr<Listener> listener;
  std::unique_ptr<Channel> client;
  std::unique_ptr<Channel> server;
};

absl::StatusOr<ConnectedPair> Connect(Backend& backend) {
  ConnectedPair pair;
  absl::StatusOr<std::unique_ptr<Listener>> listener = backend.Listen();
  if (!listener.ok()) return listener.status();
  pair.listener = *std::move(listener);
  absl::StatusOr<std::unique_ptr<Channel>> client =
      backend.Connect(pair.listener->address());
  if (!client.ok()) return client.status();
  pair.client = *std::move(client);
  absl::StatusOr<std::unique_ptr<Channel>> server = pair.listener->Accept();
  if (!server.ok()) return server.status();
  pair.server = *std::move(server);
  return pair;
}

TEST_P(ConformanceTest, ReadWithADeadlineGivesUpWhenNothingArrives) {
  ASSERT_OK_AND_ASSIGN(ConnectedPair pair, Connect(ctx().backend()));
  char buffer[16];
  const absl::Time start = absl::Now();
  EXPECT_THAT(pair.client->ReadSomeUntil(gsl::span<char>(buffer),
                                         start + absl::Milliseconds(20)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
  // The channel still works after a read that gave up.
  ASSERT_OK(pair.server->WriteAll("late"));
  ASSERT_OK_AND_ASSIGN(size_t got,
                       pair.client->ReadSomeUntil(gsl::span<char>(buffer),
                                                  absl::Now() + kDeadline));
  EXPECT_EQ(std::string(buffer, got), "late");
  pair.client->Close();
  pair.server->Close();
  pair.listener->Close();
}

TEST_P(ConformanceTest, ReadWithADeadlineReturnsWhatIsThereEvenWhenPastIt) {
  ASSERT_OK_AND_ASSIGN(ConnectedPair pair, Connect(ctx().backend()));
  ASSERT_OK(pair.client->WriteAll("ping"));
  char buffer[16];
  size_t got = 0;
  // Bytes may take a moment to cross; then a read past its deadline still
  // returns them rather than giving up.
  const absl::Time give_up = absl::Now() + kDeadline;
  while (got == 0 && absl::Now() < give_up) {
    absl::StatusOr<size_t> read = pair.server->ReadSomeUntil(
        gsl::span<char>(buffer), absl::Now() + absl::Milliseconds(10));
    if (read.ok()) got = *read;
  }
  ASSERT_EQ(std::string(buffer, got), "ping");
  ASSERT_OK(pair.client->WriteAll("pong"));
  absl::StatusOr<size_t> read =
      pair.server->ReadSomeUntil(gsl::span<char>(buffer), absl::Now());
  // Either it was there already, or nothing had arrived yet.
  if (read.ok()) {
    EXPECT_EQ(std::string(buffer, *read), "pong");
  } else {
    EXPECT_THAT(read, StatusIs(absl::StatusCode::kDeadlineExceeded));
  }
  pair.client->Close();
  pair.server->Close();
  pair.listener->Close();
}

TEST_P(ConformanceTest, ReadWithADeadlineSeesThePeerHangUp) {
  ASSERT_OK_AND_ASSIGN(ConnectedPair pair, Connect(ctx().backend()));
  pair.server->Close();
  pair.server.reset();
  char buffer[16];
  EXPECT_THAT(pair.client->ReadSomeUntil(gsl::span<char>(buffer),
                                         absl::Now() + kDeadline),
              HoldsValue(0u));
  pair.client->Close();
  pair.listener->Close();
}

}  // namespace
}  // namespace mproc::conformance
