// POSIX only: where the posix backend's Manager addresses live (abstract on
// Linux, else a private directory), and that a spawned child holds only its
// standard streams. The backend-generic hygiene rules (start/join cycles,
// descriptors a child must not hold, killed Managers, stale addresses) are in
// the conformance suite: tests/conformance/hygiene_test.cc.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/manager.h"
#include "api/process.h"
#include "backends/posix/unix_socket_transport.h"
#include "gtest/gtest.h"
#include "tests/backends/posix_probe.h"
#include "tests/backends/posix_test_util.h"
#include "tests/testing/status_matchers.h"
#include "workloads/workloads.h"

namespace mproc {
namespace {

using ::mproc::testing::StatusIs;

constexpr absl::Duration kDeadline = absl::Seconds(30);

// Exits with the number of descriptors above stderr that this process holds.
int CountDescriptorsAboveStderr() {
  return testing::CountDescriptorsWhere(
      [](int fd, const std::string&) { return fd > 2; });
}
MPROC_REGISTER_TARGET(CountDescriptorsAboveStderr);

class PosixHygieneTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    absl::StatusOr<Context> context = GetContext(GetParam());
    ASSERT_OK(context.status());
    context_ = *context;
    // The fork server lives as long as this process: started before the
    // baselines, which then hold it.
    Process warm = context_->NewProcess(Target(&workloads::ExitWith, 0));
    ASSERT_OK(warm.Start());
    ASSERT_OK(warm.Join(kDeadline));
  }
  const Context& ctx() const { return *context_; }

 private:
  std::optional<Context> context_;
};

TEST_P(PosixHygieneTest, ManagerAddressIsAbstractAndGoneAfterShutdown) {
  const conformance::ResourceSnapshot baseline = testing::ProbePosixResources();
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  const std::string address = manager.address();
  ASSERT_TRUE(absl::StartsWith(address, "unix:@mproc-")) << address;
  EXPECT_EQ(address.size(), std::string("unix:@mproc-").size() + 22);
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));
  ASSERT_OK(manager.Shutdown());
  // Nothing listens there any more, and no file was ever made.
  EXPECT_THAT(ctx().backend().Connect(address),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(testing::ProbePosixResources(), baseline);
}

TEST_P(PosixHygieneTest, ManagerSocketDirectoryIsPrivateAndRemovedAtShutdown) {
  const posix::ScopedFilesystemSocketsForTesting filesystem_sockets;
  const conformance::ResourceSnapshot baseline = testing::ProbePosixResources();
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
  const std::string address = manager.address();
  ASSERT_TRUE(absl::StartsWith(address, "unix:/")) << address;
  const std::string socket = address.substr(5);
  const std::string directory = socket.substr(0, socket.rfind('/'));
  struct stat info;
  ASSERT_EQ(stat(directory.c_str(), &info), 0) << std::strerror(errno);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  EXPECT_EQ(info.st_uid, geteuid());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));
  ASSERT_OK(manager.Shutdown());
  EXPECT_NE(stat(directory.c_str(), &info), 0)
      << directory << " is still there";
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(testing::ProbePosixResources(), baseline);
}

INSTANTIATE_TEST_SUITE_P(Posix, PosixHygieneTest,
                         ::testing::Values("posix:fork", "posix:spawn",
                                           "posix:forkserver"),
                         testing::StartMethodTestName);

TEST(PosixSpawnTest, SpawnedChildHoldsOnlyStdio) {
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("posix:spawn"));
  // Descriptors of this process that a spawned child must not see: a Manager
  // connection, and another child's pidfd.
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));
  for (bool daemon : {false, true}) {
    Process p = ctx.NewProcess(Target(&CountDescriptorsAboveStderr),
                               {.daemon = daemon});
    ASSERT_OK(p.Start());
    ASSERT_OK(p.Join(kDeadline));
    EXPECT_EQ(p.exitcode(), 0) << "daemon=" << daemon;
  }
  ASSERT_OK(manager.Shutdown());
}

}  // namespace
}  // namespace mproc
