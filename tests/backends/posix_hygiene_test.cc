// POSIX only: the posix backend leaves nothing behind and hands children
// only the descriptors they should hold.
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

// 1 000, or fewer where the sanitizer presets set the soak suite's size
// (MPROC_SOAK_CYCLES): an ASan child costs about 40 ms of CPU to spawn.
int64_t StartJoinCycles() {
  int64_t cycles = 0;
  const char* value = std::getenv("MPROC_SOAK_CYCLES");
  if (value != nullptr && absl::SimpleAtoi(value, &cycles) && cycles > 0) {
    return std::min<int64_t>(cycles, 1000);
  }
  return 1000;
}

TEST_P(PosixHygieneTest, ThousandStartJoinCyclesLeaveNoZombieAndNoDescriptor) {
  const conformance::ResourceSnapshot baseline = testing::ProbePosixResources();
  const int64_t cycles = StartJoinCycles();
  for (int64_t i = 0; i < cycles; ++i) {
    Process p = ctx().NewProcess(Target(&workloads::ExitWith, i % 256));
    ASSERT_OK(p.Start()) << "cycle " << i;
    ASSERT_OK(p.Join(kDeadline)) << "cycle " << i;
    ASSERT_EQ(p.exitcode(), i % 256) << "cycle " << i;
  }
  EXPECT_EQ(testing::ProbePosixResources(), baseline);
}

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

TEST_P(PosixHygieneTest, ManagerShutdownFailsCleanlyAfterTheServerIsKilled) {
  const conformance::ResourceSnapshot baseline = testing::ProbePosixResources();
  {
    ASSERT_OK_AND_ASSIGN(Manager manager, ctx().StartManager());
    ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
    ASSERT_OK(list.Append(1));
    ASSERT_EQ(kill(static_cast<pid_t>(*manager.pid()), SIGKILL), 0);
    EXPECT_THAT(list.Size(), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_FALSE(manager.Shutdown().ok());
  }
  EXPECT_TRUE(ActiveChildren().empty());
  EXPECT_EQ(testing::ProbePosixResources(), baseline);
}

INSTANTIATE_TEST_SUITE_P(Posix, PosixHygieneTest,
                         ::testing::Values("posix:fork", "posix:spawn",
                                           "posix:forkserver"),
                         testing::StartMethodTestName);

// A Manager owner killed by SIGKILL cannot remove its socket directory; the
// next Manager started by the same user does, once the socket is stale.
TEST(PosixSocketDirectoryTest, StaleDirectoryOfAKilledOwnerIsRemoved) {
  const posix::ScopedFilesystemSocketsForTesting filesystem_sockets;
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(
      tmpdir != nullptr && tmpdir[0] == '/' ? tmpdir : "/tmp", "/mproc-XXXXXX");
  ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
  const std::string socket_path = pattern + "/manager.sock";
  {
    // Bound, never listened on, closed without unlink: as a killed owner
    // leaves it.
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    ASSERT_LT(socket_path.size(), sizeof(address.sun_path));
    std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
    ASSERT_EQ(
        bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)),
        0)
        << std::strerror(errno);
    close(fd);
  }
  // Two minutes old.
  timespec times[2];
  ASSERT_EQ(clock_gettime(CLOCK_REALTIME, &times[0]), 0);
  times[0].tv_sec -= 120;
  times[1] = times[0];
  ASSERT_EQ(
      utimensat(AT_FDCWD, socket_path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0)
      << std::strerror(errno);

  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("posix:fork"));
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  EXPECT_FALSE(std::filesystem::exists(pattern))
      << pattern << " was left in place";
  ASSERT_OK(manager.Shutdown());
  std::filesystem::remove_all(pattern);  // only if the test failed
}

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

TEST(PosixForkTest, ForkedChildHoldsNoneOfMprocsOtherDescriptors) {
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("posix:fork"));
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));  // this process now holds a connection
  Process sibling = ctx.NewProcess(Target(&workloads::RunUntilTerminated));
  ASSERT_OK(sibling.Start());  // and a pidfd
  ASSERT_GE(testing::CountPidfdsAndSockets(), 2);
  // The application's own descriptors are inherited (that is fork), mproc's
  // are not: the child sees no pidfd and no socket.
  Process p =
      ctx.NewProcess(Target([] { return testing::CountPidfdsAndSockets(); }));
  ASSERT_OK(p.Start());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), 0);
  ASSERT_OK(sibling.Terminate());
  ASSERT_OK(sibling.Join(kDeadline));
  ASSERT_OK(manager.Shutdown());
}

}  // namespace
}  // namespace mproc
