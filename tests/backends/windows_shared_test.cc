// Windows only: the windows backend's shared-state facilities
// (windows_shared.h) through the porting interface: shared memory zeroed,
// aligned and released, semaphore deadlines and limits, IsProcessAlive on an
// ended child, objects of another backend refused.
#include <climits>
#include <cstdint>
#include <memory>
#include <optional>

#include "api/backend.h"
#include "api/context.h"
#include "api/process.h"
#include "api/target.h"
#include "backends/windows/win32.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/backends/windows_probe.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/workloads.h"

namespace mproc {
namespace {

using ::mproc::testing::HoldsValue;
using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::Duration kDeadline = absl::Seconds(30);

Backend& Windows() {
  Backend* windows = FindBackend("windows");
  EXPECT_NE(windows, nullptr);
  return *windows;
}

TEST(WindowsSharedTest, SharedMemoryIsZeroedAlignedAndReleased) {
  const int64_t before = testing::CountOpenHandles();
  {
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<SharedMemory> memory,
                         Windows().CreateSharedMemory(10000));
    gsl::span<std::byte> bytes = memory->bytes();
    ASSERT_EQ(bytes.size(), 10000u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(bytes.data()) % 64, 0u);
    for (std::byte b : bytes) ASSERT_EQ(b, std::byte{0});
    EXPECT_GT(testing::CountOpenHandles(), before);
    EXPECT_THAT(Windows().CreateSharedMemory(0),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_EQ(testing::CountOpenHandles(), before);
}

TEST(WindowsSharedTest, SemaphoreWaitsUntilItsDeadlineAndKeepsItsLimit) {
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<OsSemaphore> semaphore,
                       Windows().CreateOsSemaphore(0));
  EXPECT_THAT(semaphore->Acquire(absl::InfinitePast()), HoldsValue(false));
  const absl::Time start = absl::Now();
  EXPECT_THAT(semaphore->Acquire(start + absl::Milliseconds(30)),
              HoldsValue(false));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(30));
  EXPECT_OK(semaphore->Release());
  EXPECT_THAT(semaphore->Acquire(absl::InfiniteFuture()), HoldsValue(true));

  EXPECT_THAT(Windows().CreateOsSemaphore(uint32_t{LONG_MAX} + 1),
              StatusIs(absl::StatusCode::kOutOfRange));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<OsSemaphore> full,
                       Windows().CreateOsSemaphore(LONG_MAX));
  EXPECT_THAT(full->Release(), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(WindowsSharedTest, IsProcessAliveSeesAnEndedChildAsEnded) {
  EXPECT_TRUE(Windows().IsProcessAlive(GetCurrentProcessId()));
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("windows"));
  Process child = ctx.NewProcess(Target(&workloads::RunUntilTerminated));
  ASSERT_OK(child.Start());
  const int64_t pid = child.pid().value_or(0);
  EXPECT_TRUE(Windows().IsProcessAlive(pid));
  ASSERT_OK(child.Terminate());
  // The parent still holds the child's handle: ended, not yet reaped.
  EXPECT_TRUE(testing::WaitUntil([&] { return !Windows().IsProcessAlive(pid); },
                                 kDeadline));
  EXPECT_OK(child.Join(kDeadline));
}

class ForeignMemory final : public SharedMemory {
 public:
  gsl::span<std::byte> bytes() const override { return {}; }
};

TEST(WindowsSharedTest, ObjectsOfAnotherBackendAreRefused) {
  LaunchRequest request;
  request.child.name = "refused";
  request.child.identity = {1};
  request.child.parent_pid = GetCurrentProcessId();
  request.start_method = "spawn";
  request.target = Target(&workloads::ExitWith, 0);
  request.handovers = {std::make_shared<ForeignMemory>()};
  EXPECT_THAT(Windows().Launch(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("another backend")));
  EXPECT_EQ(windows::LiveJobProcessCount(), 0);
}

}  // namespace
}  // namespace mproc
