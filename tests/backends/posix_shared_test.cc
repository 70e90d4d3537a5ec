// POSIX only: the posix backend's shared-state facilities (posix_shared.h)
// through the porting interface: shared memory and semaphores across fork,
// IsProcessAlive on a zombie, objects of another backend refused, and an
// object without its descriptor refused when passed on.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "api/backend.h"
#include "api/context.h"
#include "api/synchronize.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/backends/posix_probe.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/shared_state.h"
#include "workloads/workloads.h"

namespace mproc {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::Duration kDeadline = absl::Seconds(30);

Backend& Posix() {
  Backend* posix = FindBackend("posix");
  EXPECT_NE(posix, nullptr);
  return *posix;
}

// Forks a child that runs `body` and exits with its result; returns the
// exit code (or -1).
template <typename Body>
int ForkAndWait(Body body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(PosixSharedTest, SharedMemoryIsZeroedAlignedSharedAndReleased) {
  const int64_t before = testing::CountOpenDescriptors();
  {
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<SharedMemory> memory,
                         Posix().CreateSharedMemory(10000));
    gsl::span<std::byte> bytes = memory->bytes();
    ASSERT_EQ(bytes.size(), 10000u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(bytes.data()) % 64, 0u);
    for (std::byte b : bytes) ASSERT_EQ(b, std::byte{0});
    EXPECT_EQ(ForkAndWait([&] {
                std::memset(bytes.data(), 0x5a, bytes.size());
                return 0;
              }),
              0);
    EXPECT_EQ(bytes[0], std::byte{0x5a});
    EXPECT_EQ(bytes[9999], std::byte{0x5a});
    EXPECT_THAT(Posix().CreateSharedMemory(0),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_EQ(testing::CountOpenDescriptors(), before);
}

TEST(PosixSharedTest, SemaphoreCountsAcrossFork) {
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<OsSemaphore> semaphore,
                       Posix().CreateOsSemaphore(1));
  EXPECT_THAT(semaphore->Acquire(absl::InfinitePast()),
              ::testing::Eq(absl::StatusOr<bool>(true)));
  EXPECT_THAT(semaphore->Acquire(absl::InfinitePast()),
              ::testing::Eq(absl::StatusOr<bool>(false)));
  EXPECT_THAT(semaphore->Acquire(absl::Now() + absl::Milliseconds(20)),
              ::testing::Eq(absl::StatusOr<bool>(false)));
  // The child posts; the parent's wait without a deadline returns.
  EXPECT_EQ(ForkAndWait([&] { return semaphore->Release().ok() ? 0 : 1; }), 0);
  EXPECT_THAT(semaphore->Acquire(absl::InfiniteFuture()),
              ::testing::Eq(absl::StatusOr<bool>(true)));
}

TEST(PosixSharedTest, IsProcessAliveSeesAnUnreapedChildAsEnded) {
  EXPECT_TRUE(Posix().IsProcessAlive(getpid()));
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[1]);
    char byte;
    (void)read(pipe_fds[0], &byte, 1);  // until the parent closes its end
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  close(pipe_fds[0]);
  EXPECT_TRUE(Posix().IsProcessAlive(pid));
  close(pipe_fds[1]);
  // A zombie (not reaped yet) has ended.
  EXPECT_TRUE(testing::WaitUntil([&] { return !Posix().IsProcessAlive(pid); },
                                 kDeadline));
  ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
  EXPECT_FALSE(Posix().IsProcessAlive(pid));
}

// A SharedMemory that is not the posix backend's.
class ForeignMemory final : public SharedMemory {
 public:
  gsl::span<std::byte> bytes() const override { return {}; }
};

TEST(PosixSharedTest, ObjectsOfAnotherBackendAreRefused) {
  for (const char* method : {"fork", "spawn"}) {
    LaunchRequest request;
    request.child.name = "refused";
    request.child.identity = {1};
    request.child.parent_pid = getpid();
    request.start_method = method;
    request.target = Target(&workloads::ExitWith, 0);
    request.handovers = {std::make_shared<ForeignMemory>()};
    EXPECT_THAT(Posix().Launch(request),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("another backend")))
        << method;
  }
  EXPECT_EQ(testing::CountChildProcesses(), 0);
}

// In a forked child, a Lock captured by a closure has its mapping but not
// its descriptor: passing it on to a spawned (or fork server's) grandchild
// is refused.
TEST(PosixSharedTest, AClosureCapturedLockCannotBePassedToASpawnedChild) {
  ASSERT_OK_AND_ASSIGN(Context fork, GetContext("posix:fork"));
  ASSERT_OK_AND_ASSIGN(Lock lock, Lock::Create(fork));
  ASSERT_OK_AND_ASSIGN(Event started, Event::Create(fork));
  for (const std::string method : {"posix:spawn", "posix:forkserver"}) {
    Process child = fork.NewProcess(Target([lock, started, method]() -> int {
      absl::StatusOr<Context> ctx = GetContext(method);
      if (!ctx.ok()) return 2;
      Process grandchild =
          ctx->NewProcess(Target(&workloads::SignalThenAcquire, started, lock));
      const absl::Status s = grandchild.Start();
      return absl::IsFailedPrecondition(s) &&
                     absl::StrContains(s.message(), "descriptor")
                 ? 0
                 : 1;
    }));
    ASSERT_OK(child.Start());
    ASSERT_OK(child.Join(kDeadline));
    EXPECT_EQ(child.exitcode(), 0) << method;
  }
}

}  // namespace
}  // namespace mproc
