// The Manager contract: ordering, visibility, proxies in children, shutdown,
// and a server that survives bad clients.
#include "api/manager.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/current_process.h"
#include "api/internal/manager_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/conformance/conformance.h"
#include "tests/testing/regex_matchers.h"
#include "tests/testing/status_matchers.h"
#include "workloads/workloads.h"

namespace mproc::conformance {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

TEST_P(ConformanceTest, ManagerListKeepsOrderAndAnswersQueries) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  EXPECT_EQ(*list.Size(), 0);
  for (int64_t i = 0; i < 100; ++i) ASSERT_OK(list.Append(i * i));
  const std::vector<int64_t> more = {-1, -2, -3};
  ASSERT_OK(list.Extend(more));
  EXPECT_EQ(*list.Size(), 103);
  EXPECT_EQ(*list.Get(0), 0);
  EXPECT_EQ(*list.Get(99), 99 * 99);
  EXPECT_EQ(*list.Get(-1), -3);
  EXPECT_EQ(*list.Get(-103), 0);
  EXPECT_THAT(list.Get(103), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(list.Get(-104), StatusIs(absl::StatusCode::kOutOfRange));
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> all, list.Snapshot());
  ASSERT_EQ(all.size(), 103u);
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(all[i], i * i);
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ManagerListsOfEachElementType) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<double> doubles, manager.List<double>());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> strings,
                       manager.List<std::string>());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::vector<int>> vectors,
                       manager.List<std::vector<int>>());
  ASSERT_OK(doubles.Append(0.25));
  ASSERT_OK(strings.Append(std::string("with\0nul", 8)));
  ASSERT_OK(strings.Append(std::string(100000, 'y')));
  ASSERT_OK(vectors.Append({1, 2, 3}));
  EXPECT_EQ(*doubles.Get(0), 0.25);
  EXPECT_EQ(*strings.Get(0), std::string("with\0nul", 8));
  EXPECT_EQ(strings.Get(1)->size(), 100000u);
  EXPECT_THAT(*vectors.Get(0), ElementsAre(1, 2, 3));
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, PipelinedAppendsAreSeenByTheNextSynchronousCall) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  for (int64_t i = 0; i < 50000; ++i) ASSERT_OK(list.Append(i));
  EXPECT_EQ(*list.Size(), 50000);
  EXPECT_EQ(*list.Get(-1), 49999);
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ChildWritesAreVisibleOnceJoinReturns) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  Process p = RunToEnd(Target(&workloads::AppendRange, 0, 5000, list));
  EXPECT_EQ(p.exitcode(), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> all, list.Snapshot());
  ASSERT_EQ(all.size(), 5000u);
  for (int64_t i = 0; i < 5000; ++i) ASSERT_EQ(all[i], i);
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ParentWritesBeforeStartAreVisibleToTheChild) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> in, manager.List<int64_t>());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> out, manager.List<int64_t>());
  for (int64_t i = 0; i < 7; ++i) ASSERT_OK(in.Append(i));  // pipelined
  Process p = RunToEnd(Target(&workloads::CopySize, in, out));
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_THAT(*out.Snapshot(), ElementsAre(7));
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ConcurrentChildrenKeepTheirOwnOrder) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  std::vector<Process> children;
  for (int64_t c = 0; c < 4; ++c) {
    children.push_back(ctx().NewProcess(
        Target(&workloads::AppendRange, c * 100000, 1000, list)));
    ASSERT_OK(children.back().Start());
  }
  for (Process& child : children) {
    ASSERT_OK(child.Join(kDeadline));
    EXPECT_EQ(child.exitcode(), 0);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> all, list.Snapshot());
  ASSERT_EQ(all.size(), 4000u);
  std::vector<int64_t> last(4, -1);
  for (int64_t v : all) {
    const int64_t c = v / 100000;
    ASSERT_GE(c, 0);
    ASSERT_LT(c, 4);
    EXPECT_GT(v, last[c]) << "child " << c << "'s writes were reordered";
    last[c] = v;
  }
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, VectorArgumentsReachTheChild) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> out, manager.List<int64_t>());
  std::vector<int64_t> values = {1, 2, 3, 4, -10};
  Process p = RunToEnd(Target(&workloads::SumInto, values, out));
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_THAT(*out.Snapshot(), ElementsAre(0));
  ASSERT_OK(manager.Shutdown());
}

TEST_P(ConformanceTest, ProxyOfAShutDownManagerFailsCleanly) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<double> list, manager.List<double>());
  ASSERT_OK(list.Append(1.0));
  ASSERT_OK(manager.Shutdown());
  EXPECT_OK(manager.Shutdown());  // idempotent
  EXPECT_EQ(manager.pid(), std::nullopt);
  EXPECT_THAT(list.Append(2.0), StatusIs(absl::StatusCode::kFailedPrecondition,
                                         HasSubstr("shut down")));
  EXPECT_THAT(list.Size(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(manager.List<double>(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(ConformanceTest, ChildUsingAShutDownManagerGetsAnError) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> in, manager.List<int64_t>());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> out, manager.List<int64_t>());
  ASSERT_OK(manager.Shutdown());
  CaptureStderr();
  Process p = RunToEnd(Target(&workloads::CopySize, in, out), {.name = "late"});
  EXPECT_EQ(p.exitcode(), 1);
  // UNAVAILABLE where the child has its own memory; FAILED_PRECONDITION
  // where it sees the parent's proxy state (shared or copied memory).
  EXPECT_THAT(GetCapturedStderr(),
              ::mproc::testing::ContainsRegex(
                  "Process late:\n(UNAVAILABLE|FAILED_PRECONDITION): "));
}

TEST_P(ConformanceTest, UnboundProxyFails) {
  ListProxy<int64_t> unbound;
  EXPECT_THAT(unbound.Append(1),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(unbound.Size(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(ConformanceTest, ManagerServerIsAChildUntilShutdown) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_TRUE(manager.pid().has_value());
  std::vector<ProcessInfo> children = ActiveChildren();
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].pid, *manager.pid());
  EXPECT_THAT(children[0].name,
              ::mproc::testing::MatchesRegex("Manager-[0-9]+"));
  ASSERT_OK(manager.Shutdown());
  EXPECT_THAT(ActiveChildren(), ::testing::IsEmpty());
}

TEST_P(ConformanceTest, WrongAuthkeyIsRejectedAndOthersAreUnaffected) {
  // Before StartManager: a server process keeps the stderr it starts with.
  CaptureStderr();
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));
  internal::ManagerEndpoint intruder;
  intruder.backend = std::string(ctx().backend().name());
  intruder.address = manager.address();
  intruder.authkey = std::string(internal::kAuthkeySize, 'k');
  absl::StatusOr<std::shared_ptr<internal::ManagerConnection>> rejected =
      internal::ManagerConnection::Open(intruder);
  EXPECT_THAT(rejected, StatusIs(absl::StatusCode::kUnauthenticated));
  ASSERT_OK(list.Append(2));
  EXPECT_THAT(*list.Snapshot(), ElementsAre(1, 2));
  ASSERT_OK(manager.Shutdown());
  EXPECT_THAT(GetCapturedStderr(), HasSubstr("authentication failed"));
}

TEST_P(ConformanceTest, MalformedFramesCloseOnlyThatConnection) {
  // Before StartManager: a server process keeps the stderr it starts with.
  CaptureStderr();
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Channel> raw,
                         ctx().backend().Connect(manager.address()));
    // A frame that claims 4 GiB of payload.
    ASSERT_OK(raw->WriteAll(std::string("\xff\xff\xff\xff garbage", 12)));
    // The server speaks first (its challenge), then hangs up.
    char buffer[256];
    size_t received = 0;
    while (true) {
      absl::StatusOr<size_t> read = raw->ReadSome(gsl::span<char>(buffer));
      if (!read.ok() || *read == 0) break;
      received += *read;
      ASSERT_LT(received, 1024u) << "the server kept the connection";
    }
    raw->Close();
  }
  ASSERT_OK(list.Append(2));
  EXPECT_THAT(*list.Snapshot(), ElementsAre(1, 2));
  ASSERT_OK(manager.Shutdown());
  EXPECT_THAT(GetCapturedStderr(), HasSubstr("closed a client connection"));
}

TEST_P(ConformanceTest, PipelinedErrorIsReportedByTheNextSynchronousCall) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  // An Append to a list the server does not have is a pipelined error.
  ListProxy<int64_t> bogus;
  {
    std::string encoded = EncodeValue(list);
    encoded.back() = static_cast<char>(120);  // list id 120 does not exist
    ASSERT_OK_AND_ASSIGN(bogus, DecodeValue<ListProxy<int64_t>>(encoded));
  }
  EXPECT_OK(bogus.Append(5));  // returns at once
  EXPECT_THAT(list.Size(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no list 120")));
  EXPECT_EQ(*list.Size(), 0);  // reported once
  ASSERT_OK(manager.Shutdown());
}

}  // namespace
}  // namespace mproc::conformance
