// POSIX only: OS refusals and hostile clients give statuses, never crashes,
// and leave nothing behind.
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/context.h"
#include "api/current_process.h"
#include "api/internal/manager_client.h"
#include "api/internal/manager_protocol.h"
#include "api/manager.h"
#include "api/process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/backends/posix_probe.h"
#include "tests/backends/posix_test_util.h"
#include "tests/testing/status_matchers.h"
#include "workloads/workloads.h"

namespace mproc {
namespace {

using ::mproc::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

constexpr absl::Duration kDeadline = absl::Seconds(30);

// Runs `body` in a forked child (a throwaway test process) and returns its
// exit code.
template <typename Body>
int RunInForkedChild(Body body) {
  absl::StatusOr<Context> fork = GetContext("posix:fork");
  if (!fork.ok()) return -1000;
  Process p = fork->NewProcess(Target(std::move(body)));
  if (!p.Start().ok() || !p.Join(kDeadline).ok()) return -1001;
  return p.exitcode().value_or(-1002);
}

void Report(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
}

// In a child whose descriptor table is full but for `free` slots: starting a
// child on each start method, and a Manager, either works or fails with
// kResourceExhausted, and leaves no descriptor or child behind. Exit code: 0
// when so (and, with no free slot, when all four failed). The fork server
// is started first (it lives as long as this process: not a leak).
int TryEverythingWithFreeDescriptors(int free) {
  {
    absl::StatusOr<Context> ctx = GetContext("posix:forkserver");
    if (!ctx.ok()) return 12;
    Process warm = ctx->NewProcess(Target(&workloads::ExitWith, 0));
    if (!warm.Start().ok() || !warm.Join(kDeadline).ok()) return 13;
  }
  // Counted now: with the table full, /proc cannot be read.
  const int64_t servers = testing::CountForkServers();
  rlimit limit{.rlim_cur = 64, .rlim_max = 64};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_max < 64) return 2;
  limit.rlim_cur = 64;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return 3;
  std::vector<int> fillers;
  while (true) {
    const int fd = dup(STDERR_FILENO);
    if (fd < 0) break;
    fillers.push_back(fd);
  }
  if (errno != EMFILE || static_cast<int>(fillers.size()) < free) return 4;
  for (int i = 0; i < free; ++i) {
    close(fillers.back());
    fillers.pop_back();
  }
  const int64_t descriptors = testing::CountOpenDescriptors();
  int failures = 0;
  auto check = [&](absl::string_view what, const absl::Status& status) {
    if (status.ok()) return true;
    ++failures;
    if (status.code() == absl::StatusCode::kResourceExhausted) return true;
    Report(absl::StrCat(what, " with ", free, " free: ", status.ToString()));
    return false;
  };
  for (const char* name : {"posix:fork", "posix:spawn", "posix:forkserver"}) {
    absl::StatusOr<Context> ctx = GetContext(name);
    if (!ctx.ok()) return 5;
    Process p = ctx->NewProcess(Target(&workloads::ExitWith, 0));
    const absl::Status started = p.Start();
    if (!check(name, started)) return 6;
    if (started.ok() && (!p.Join(kDeadline).ok() || p.exitcode() != 0)) {
      return 7;
    }
  }
  {
    absl::StatusOr<Context> ctx = GetContext("posix:fork");
    absl::StatusOr<Manager> manager = ctx->StartManager();
    if (!check("StartManager", manager.status())) return 8;
    if (manager.ok())
      (void)manager->Shutdown();  // may fail: no descriptor left
  }
  if (testing::CountOpenDescriptors() != descriptors) {
    Report(absl::StrCat("descriptors ", descriptors, " -> ",
                        testing::CountOpenDescriptors(), " with ", free,
                        " free"));
    return 10;
  }
  if (free == 0 && failures != 4) return 11;
  for (int fd : fillers) close(fd);
  // Children last: /proc can be read again.
  if (!ActiveChildren().empty() || testing::CountChildProcesses() != servers) {
    Report(absl::StrCat("with ", free, " free: ", ActiveChildren().size(),
                        " active children, ", testing::CountChildProcesses(),
                        " child processes, ", servers, " fork server"));
    return 9;
  }
  return 0;
}

TEST(PosixFaultsTest, DescriptorExhaustionIsResourceExhaustedAndLeavesNothing) {
  for (int free = 0; free <= 4; ++free) {
    EXPECT_EQ(RunInForkedChild(
                  [free] { return TryEverythingWithFreeDescriptors(free); }),
              0)
        << "with " << free << " free descriptors";
  }
}

int UnregisteredTarget() { return 0; }

TEST(PosixFaultsTest, UnregisteredTargetOnSpawnIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("posix:spawn"));
  const conformance::ResourceSnapshot baseline = testing::ProbePosixResources();
  Process closure = ctx.NewProcess(Target([] { return 0; }));
  EXPECT_THAT(closure.Start(), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("MPROC_REGISTER_TARGET")));
  Process unregistered = ctx.NewProcess(Target(&UnregisteredTarget));
  EXPECT_THAT(unregistered.Start(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("MPROC_REGISTER_TARGET")));
  EXPECT_EQ(testing::ProbePosixResources(), baseline);
}

// Makes pidfd_open and pidfd_send_signal fail with ENOSYS in this process and
// its children, as on a kernel older than 5.3.
bool HidePidfds() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_send_signal, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
  };
  sock_fprog program{.len = sizeof(filter) / sizeof(filter[0]),
                     .filter = filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// Start, join, terminate and kill children, and run a Manager, on both start
// methods; returns 0 when every exit status is right.
int ExerciseLifecycle() {
  for (const char* name : {"posix:fork", "posix:spawn", "posix:forkserver"}) {
    absl::StatusOr<Context> ctx = GetContext(name);
    if (!ctx.ok()) return 2;
    Process exits = ctx->NewProcess(Target(&workloads::ExitWith, 7));
    if (!exits.Start().ok() || !exits.Join(kDeadline).ok() ||
        exits.exitcode() != 7) {
      return 3;
    }
    for (bool kill : {false, true}) {
      // A daemon: its parent watch cannot use a pidfd either.
      Process runs = ctx->NewProcess(Target(&workloads::RunUntilTerminated),
                                     {.daemon = true});
      if (!runs.Start().ok()) return 4;
      if (!runs.Join(absl::Milliseconds(20)).ok() || !runs.IsAlive()) return 5;
      if (!(kill ? runs.Kill() : runs.Terminate()).ok()) return 6;
      if (!runs.Join(kDeadline).ok() || runs.exitcode() != (kill ? -9 : -15)) {
        return 7;
      }
    }
    absl::StatusOr<Manager> manager = ctx->StartManager();
    if (!manager.ok()) return 8;
    absl::StatusOr<ListProxy<int64_t>> list = manager->List<int64_t>();
    if (!list.ok() || !list->Append(1).ok() || list->Size().value_or(0) != 1) {
      return 9;
    }
    if (!manager->Shutdown().ok()) return 10;
  }
  // The fork server lives on: the only child left.
  return testing::CountChildProcesses() == testing::CountForkServers() ? 0 : 11;
}

TEST(PosixFaultsTest, WithoutPidfdWaitsAndSignalsFallBackToWaitpid) {
  EXPECT_EQ(RunInForkedChild([] {
              if (!HidePidfds()) return 1;
              return ExerciseLifecycle();
            }),
            0);
}

class PosixManagerFaultsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PosixManagerFaultsTest, WrongAuthkeyIsRejectedWhileAnotherClientWrites) {
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext(GetParam()));
  CaptureStderr();  // before the server starts: it inherits our stderr
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  Process writer =
      ctx.NewProcess(Target(&workloads::AppendRange, 0, 20000, list));
  ASSERT_OK(writer.Start());
  internal::ManagerEndpoint intruder;
  intruder.backend = "posix";
  intruder.address = manager.address();
  intruder.authkey = std::string(internal::kAuthkeySize, 'k');
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(internal::ManagerConnection::Open(intruder),
                StatusIs(absl::StatusCode::kUnauthenticated));
  }
  ASSERT_OK(writer.Join(kDeadline));
  EXPECT_EQ(writer.exitcode(), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> all, list.Snapshot());
  ASSERT_EQ(all.size(), 20000u);
  for (int64_t i = 0; i < 20000; ++i) ASSERT_EQ(all[i], i);
  ASSERT_OK(manager.Shutdown());
  EXPECT_THAT(GetCapturedStderr(), HasSubstr("authentication failed"));
}

// Connects to `path` as uid/gid 65534 (keeping the power to pass the 0700
// directory) and returns 0 when the server hangs up without a word.
int ConnectAsAnotherUser(const std::string& path) {
  if (prctl(PR_SET_KEEPCAPS, 1) != 0) return 2;
  if (setresgid(65534, 65534, 65534) != 0) return 3;
  if (setresuid(65534, 65534, 65534) != 0) return 4;
  __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3,
                                  .pid = 0};
  __user_cap_data_struct caps[2] = {};
  if (syscall(SYS_capget, &header, caps) != 0) return 5;
  caps[0].effective |= 1u << CAP_DAC_OVERRIDE;
  if (syscall(SYS_capset, &header, caps) != 0) return 6;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  socklen_t length = sizeof(address);
  if (path[0] == '@') {  // abstract: any user may connect; the server checks
    address.sun_path[0] = '\0';
    length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    Report(absl::StrCat("connect: ", std::strerror(errno)));
    return 7;
  }
  pollfd hangup{.fd = fd, .events = POLLIN, .revents = 0};
  if (poll(&hangup, 1, 10000) != 1) return 8;  // the server kept it open
  char byte;
  return read(fd, &byte, 1) == 0 ? 0 : 9;
}

TEST_P(PosixManagerFaultsTest, ClientOfAnotherUserIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext(GetParam()));
  CaptureStderr();
  ASSERT_OK_AND_ASSIGN(Manager manager, ctx.StartManager());
  ASSERT_OK_AND_ASSIGN(ListProxy<int64_t> list, manager.List<int64_t>());
  ASSERT_OK(list.Append(1));
  const std::string path = manager.address().substr(5);
  EXPECT_EQ(RunInForkedChild([path] { return ConnectAsAnotherUser(path); }), 0);
  ASSERT_OK(list.Append(2));
  EXPECT_THAT(*list.Snapshot(), ::testing::ElementsAre(1, 2));
  ASSERT_OK(manager.Shutdown());
  EXPECT_THAT(GetCapturedStderr(), HasSubstr("refused a Manager client"));
}

INSTANTIATE_TEST_SUITE_P(Posix, PosixManagerFaultsTest,
                         ::testing::Values("posix:fork", "posix:spawn",
                                           "posix:forkserver"),
                         testing::StartMethodTestName);

}  // namespace
}  // namespace mproc
