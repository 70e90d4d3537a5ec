// POSIX only: posix:forkserver beyond the conformance suite: a threaded
// parent, a large parent, the server killed between Starts, during one and
// while a child runs, the descriptors a child holds, and shared-state objects
// handed over through the server (more than one control message holds).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/manager.h"
#include "api/process.h"
#include "api/synchronize.h"
#include "gtest/gtest.h"
#include "tests/backends/posix_probe.h"
#include "tests/backends/posix_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/workloads.h"

namespace mproc {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::Duration kDeadline = absl::Seconds(30);

// Waits, without a deadline of its own, until it is killed.
void WaitToBeKilled() {
  while (true) (void)poll(nullptr, 0, -1);
}
MPROC_REGISTER_TARGET(WaitToBeKilled);

// Exits with the number of descriptors above stderr that this process holds.
int DescriptorsAboveStderr() {
  return testing::CountDescriptorsWhere(
      [](int fd, const std::string&) { return fd > 2; });
}
MPROC_REGISTER_TARGET(DescriptorsAboveStderr);

constexpr size_t kLargeArgument = size_t{4} << 20;

// Exits 0 when `text` is kLargeArgument bytes of 'x'.
int CheckLargeArgument(std::string text) {
  return text == std::string(kLargeArgument, 'x') ? 0 : 1;
}
MPROC_REGISTER_TARGET(CheckLargeArgument);

// Takes `lock`, adds 1 to `total` under its own lock, and, when `depth` > 0,
// starts a child on posix:forkserver (this process's own fork server) with
// the same objects and `depth` - 1; then waits at `barrier` (one party per
// process of the chain, the test's included) and joins that child.
absl::Status ChainThroughServers(Lock lock, Value<int64_t> total,
                                 Barrier barrier, int64_t depth) {
  absl::StatusOr<bool> locked = lock.Acquire();
  if (!locked.ok()) return locked.status();
  absl::Status added = [&] {
    absl::StatusOr<bool> value_locked = total.GetLock().Acquire();
    if (!value_locked.ok()) return value_locked.status();
    *total.get() += 1;
    return total.GetLock().Release();
  }();
  if (absl::Status released = lock.Release(); !released.ok()) return released;
  if (!added.ok()) return added;
  std::optional<Process> next;
  if (depth > 0) {
    absl::StatusOr<Context> ctx = GetContext("posix:forkserver");
    if (!ctx.ok()) return ctx.status();
    next = ctx->NewProcess(
        Target(&ChainThroughServers, lock, total, barrier, depth - 1));
    if (absl::Status s = next->Start(); !s.ok()) return s;
  }
  absl::StatusOr<int64_t> waited = barrier.Wait(kDeadline);
  if (!waited.ok()) return waited.status();
  if (next.has_value()) {
    if (absl::Status s = next->Join(kDeadline); !s.ok()) return s;
    if (next->exitcode() != 0) {
      return absl::InternalError(
          absl::StrCat("the next child ended with ", *next->exitcode()));
    }
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(ChainThroughServers);

// Sets every one of `events`; fails unless this process's descriptors above
// stderr are exactly 5, 6, ... (the handover table, nothing on 3 or 4) and
// more than one control message's worth (253).
absl::Status SetAllFromHandedDescriptors(std::vector<Event> events) {
  for (const Event& event : events) {
    if (absl::Status s = event.Set(); !s.ok()) return s;
  }
  int highest = 0;
  const int count =
      testing::CountDescriptorsWhere([&](int fd, const std::string&) {
        highest = std::max(highest, fd);
        return fd > 2;
      });
  if (fcntl(3, F_GETFD) != -1 || fcntl(4, F_GETFD) != -1 ||
      count != highest - 4 || count <= 253) {
    return absl::InternalError(
        absl::StrCat("descriptors above stderr: ", count, ", the highest ",
                     highest, "; want 5 to the highest, more than 253"));
  }
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(SetAllFromHandedDescriptors);

// This process's fork servers' pids.
std::vector<pid_t> ForkServers() {
  std::vector<pid_t> servers;
  for (int64_t pid : testing::ForkServerPids()) {
    servers.push_back(static_cast<pid_t>(pid));
  }
  return servers;
}

class PosixForkServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("posix:forkserver"));
    ctx_ = ctx;
    // Makes sure the server runs, and finds it.
    RunExitWith(0);
    std::vector<pid_t> servers = ForkServers();
    ASSERT_EQ(servers.size(), 1u);
    server_ = servers[0];
  }

  // Starts and joins a child that exits with `code`; checks it did.
  void RunExitWith(int code) {
    Process p = ctx_->NewProcess(Target(&workloads::ExitWith, code));
    ASSERT_OK(p.Start());
    ASSERT_OK(p.Join(kDeadline));
    ASSERT_EQ(p.exitcode(), code);
  }

  // SIGKILLs the server and waits until it has ended (it stays a zombie
  // until the next Start reaps it).
  void KillServer() {
    const int watch = testing::OpenPidfdFor(server_);
    ASSERT_GE(watch, 0) << std::strerror(errno);
    ASSERT_EQ(syscall(SYS_pidfd_send_signal, watch, SIGKILL, nullptr, 0), 0);
    EXPECT_TRUE(testing::WaitForProcessEnd(watch, kDeadline));
    close(watch);
  }

  std::optional<Context> ctx_;
  pid_t server_ = 0;
};

TEST_F(PosixForkServerTest, ThreadedParentStartsAThousandChildrenNoneHangs) {
  // Threads hammer the allocator and mproc while children are started: a
  // child forked from this process could inherit a lock held; one forked by
  // the single-threaded server cannot.
  std::atomic<bool> stop{false};
  std::vector<std::thread> hammers;
  hammers.emplace_back([&] {
    std::vector<std::unique_ptr<char[]>> blocks(64);
    for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      blocks[i % blocks.size()] = std::make_unique<char[]>(16 + i % 4096);
    }
  });
  hammers.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      absl::StatusOr<Context> ctx = GetContext("posix:forkserver");
      Process unstarted = ctx->NewProcess(Target(&workloads::ExitWith, 0));
      (void)ActiveChildren();
      (void)CurrentProcess().name;
    }
  });
  int hung = 0;
  for (int i = 0; i < 1000; ++i) {
    Process p = ctx_->NewProcess(Target(&workloads::ExitWith, i % 256));
    ASSERT_OK(p.Start()) << "child " << i;
    ASSERT_OK(p.Join(kDeadline)) << "child " << i;
    if (p.IsAlive()) {
      ++hung;
      ASSERT_OK(p.Kill());
      ASSERT_OK(p.Join());
      continue;
    }
    ASSERT_EQ(p.exitcode(), i % 256) << "child " << i;
  }
  stop = true;
  for (std::thread& t : hammers) t.join();
  EXPECT_EQ(hung, 0);
}

TEST_F(PosixForkServerTest, ThreadsStartingAtOnceEachGetTheirOwnChild) {
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int code = (t * kEach + i) % 256;
        Process p = ctx_->NewProcess(Target(&workloads::ExitWith, code));
        if (!p.Start().ok() || !p.Join(kDeadline).ok() ||
            p.exitcode() != code) {
          ++wrong;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong, 0);
}

TEST_F(PosixForkServerTest, ForkedChildStartsItsOwnServer) {
  ASSERT_OK_AND_ASSIGN(Context fork, GetContext("posix:fork"));
  const pid_t parents_server = server_;
  Process p = fork.NewProcess(Target([parents_server]() -> int {
    absl::StatusOr<Context> ctx = GetContext("posix:forkserver");
    if (!ctx.ok()) return 2;
    Process grandchild = ctx->NewProcess(Target(&workloads::ExitWith, 7));
    if (!grandchild.Start().ok() || !grandchild.Join(kDeadline).ok()) return 3;
    if (grandchild.exitcode() != 7) return 4;
    // The grandchild's parent is this process's own server.
    std::vector<pid_t> servers = ForkServers();
    if (servers.size() != 1 || servers[0] == parents_server) return 5;
    return 0;
  }));
  ASSERT_OK(p.Start());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_F(PosixForkServerTest, RequestLargerThanTheSocketBufferArrivesWhole) {
  Process p = ctx_->NewProcess(
      Target(&CheckLargeArgument, std::string(kLargeArgument, 'x')));
  ASSERT_OK(p.Start());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_F(PosixForkServerTest, ParentOf256MiBStartsChildren) {
  constexpr size_t kSize = size_t{256} << 20;
  auto memory = std::make_unique<char[]>(kSize);
  std::memset(memory.get(), 1, kSize);  // resident, not just reserved
  for (int i = 0; i < 20; ++i) RunExitWith(i);
  EXPECT_EQ(memory[kSize - 1], 1);
}

TEST_F(PosixForkServerTest, ServerKilledBetweenStartsIsReplacedByTheNext) {
  KillServer();
  const conformance::ResourceSnapshot before = testing::ProbePosixResources();
  RunExitWith(3);
  std::vector<pid_t> servers = ForkServers();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_NE(servers[0], server_);
  // The dead server was reaped, its descriptors closed, a new one holds
  // as many: nothing more than before.
  EXPECT_EQ(testing::ProbePosixResources(), before);
}

TEST_F(PosixForkServerTest, ServerKilledDuringAStartFailsThatStartClearly) {
  // Stopped, the server cannot answer: the Start waits for its reply.
  ASSERT_EQ(kill(server_, SIGSTOP), 0);
  absl::Status started;
  std::atomic<pid_t> starter{0};
  Process p = ctx_->NewProcess(Target(&workloads::ExitWith, 0));
  std::thread thread([&] {
    starter = static_cast<pid_t>(syscall(SYS_gettid));
    started = p.Start();
  });
  // Blocked (state S) in its wait for the reply.
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        if (starter == 0) return false;
        const std::optional<std::string> fields = testing::StatFieldsOf(
            absl::StrCat("/proc/self/task/", starter.load(), "/stat"));
        return fields.has_value() && (*fields)[0] == 'S';
      },
      kDeadline));
  KillServer();
  thread.join();
  EXPECT_THAT(started, StatusIs(absl::StatusCode::kUnavailable,
                                HasSubstr("fork server")));
  // The next Start starts a new server.
  RunExitWith(4);
}

TEST_F(PosixForkServerTest, ServerKilledWhileAChildRunsLosesOnlyItsStatus) {
  Process running = ctx_->NewProcess(Target(&WaitToBeKilled));
  ASSERT_OK(running.Start());
  KillServer();
  // Still signalled through its pidfd; its status is gone with the server.
  ASSERT_OK(running.Kill());
  EXPECT_THAT(running.Join(kDeadline),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("exit status is lost")));
  RunExitWith(5);
}

TEST_F(PosixForkServerTest, ChildHoldsOnlyStdioAndNoDescriptorOfTheParent) {
  // Descriptors of this process a child must not see: one of the
  // application's that is not close-on-exec, a Manager connection, and a
  // running sibling's pidfd and channel.
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx_->StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));
  Process sibling = ctx_->NewProcess(Target(&WaitToBeKilled));
  ASSERT_OK(sibling.Start());
  for (bool daemon : {false, true}) {
    Process p =
        ctx_->NewProcess(Target(&DescriptorsAboveStderr), {.daemon = daemon});
    ASSERT_OK(p.Start());
    ASSERT_OK(p.Join(kDeadline));
    EXPECT_EQ(p.exitcode(), 0) << "daemon=" << daemon;
  }
  ASSERT_OK(sibling.Kill());
  ASSERT_OK(sibling.Join(kDeadline));
  ASSERT_OK(manager.Shutdown());
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

TEST_F(PosixForkServerTest, ChildWritesToTheParentsCurrentStdout) {
  // Redirected after the server started: the child follows.
  ::testing::internal::CaptureStdout();
  Process p = ctx_->NewProcess(Target(&workloads::Print, std::string("hello")));
  ASSERT_OK(p.Start());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "hello\n");
}

TEST_F(PosixForkServerTest, ChildIsTheServersAndNamesThisProcessItsParent) {
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx_->StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<std::string> out, manager.List<std::string>());
  Process p = ctx_->NewProcess(Target(&WaitToBeKilled));
  ASSERT_OK(p.Start());
  EXPECT_EQ(testing::ParentPidOf(*p.pid()), server_);
  ASSERT_OK(p.Terminate());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), -15);
  ASSERT_OK(manager.Shutdown());
}

TEST_F(PosixForkServerTest, LockValueAndBarrierReachAChildAndAGrandchild) {
  ASSERT_OK_AND_ASSIGN(Lock lock, Lock::Create(*ctx_));
  ASSERT_OK_AND_ASSIGN(Value<int64_t> total, Value<int64_t>::Create(*ctx_, 40));
  // The test, the child and the grandchild.
  ASSERT_OK_AND_ASSIGN(Barrier barrier, Barrier::Create(*ctx_, 3));
  Process child = ctx_->NewProcess(
      Target(&ChainThroughServers, lock, total, barrier, int64_t{1}));
  ASSERT_OK(child.Start());
  // Returns only once both have arrived: both decoded the barrier.
  ASSERT_OK(barrier.Wait(kDeadline).status());
  ASSERT_OK(child.Join(kDeadline));
  EXPECT_EQ(child.exitcode(), 0);
  EXPECT_THAT(total.Get(), ::mproc::testing::HoldsValue(42));
  // The lock is free again, here too.
  EXPECT_THAT(lock.Acquire(absl::ZeroDuration()),
              ::mproc::testing::HoldsValue(true));
  ASSERT_OK(lock.Release());
}

TEST_F(PosixForkServerTest, HundredsOfObjectsTravelInContinuationMessages) {
  std::vector<Event> events;
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK_AND_ASSIGN(Event event, Event::Create(*ctx_));
    events.push_back(event);
  }
  // Twice: a Start whose objects need several messages leaves the server
  // ready for the next one.
  for (int round = 0; round < 2; ++round) {
    for (const Event& event : events) event.Clear();
    Process p = ctx_->NewProcess(Target(&SetAllFromHandedDescriptors, events));
    ASSERT_OK(p.Start());
    ASSERT_OK(p.Join(kDeadline));
    ASSERT_EQ(p.exitcode(), 0) << "round " << round;
    for (const Event& event : events) {
      EXPECT_TRUE(event.IsSet());
    }
    RunExitWith(round);
  }
}

}  // namespace
}  // namespace mproc
