// POSIX only: posix:spawn re-executes the right program (also when the test
// binary was started through an explicit ld.so), and a program started with
// `--mproc-child=N` runs a request only from its parent.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/backend.h"
#include "api/context.h"
#include "api/process.h"
#include "api/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/backends/posix_test_util.h"
#include "tests/testing/status_matchers.h"
#include "workloads/workloads.h"

namespace mproc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kDeadline = absl::Seconds(30);
constexpr char kLoader[] = "/lib64/ld-linux-x86-64.so.2";

std::string ThisProgram() {
  std::error_code error;
  return std::filesystem::read_symlink("/proc/self/exe", error).string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A scratch directory for one test's output files.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = "/tmp/mproc-spawn-self-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(absl::string_view name) const {
    return absl::StrCat(path_, "/", name);
  }

 private:
  std::string path_;
};

// Runs `argv` with stdin from /dev/null, stdout and stderr into files, and
// the descriptors in `keep` inherited as they are; returns its exit code
// (128 + N for signal N), or -1 when it cannot start or does not end in
// time (it is then killed and reaped).
int RunProgram(const std::vector<std::string>& argv, const std::string& out,
               const std::string& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned =
      posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  const int pidfd = testing::OpenPidfdFor(pid);
  const bool ended = pidfd >= 0 && testing::WaitForProcessEnd(pidfd, kDeadline);
  if (pidfd >= 0) close(pidfd);
  if (!ended) (void)kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!ended) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs in the test binary under test below (also on its own: then it is an
// ordinary spawn).
TEST(PosixSpawnSelfTest, SpawnedChildRuns) {
  ASSERT_OK_AND_ASSIGN(Context ctx, GetContext("posix:spawn"));
  Process p = ctx.NewProcess(Target(&workloads::ExitWith, 7));
  ASSERT_OK(p.Start());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), 7);
}

TEST(PosixSpawnSelfTest, SpawnWorksWhenStartedThroughAnExplicitLoader) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << kLoader << " not found";
  ScratchDir scratch;
  const int code =
      RunProgram({kLoader, ThisProgram(),
                  "--gtest_filter=PosixSpawnSelfTest.SpawnedChildRuns"},
                 scratch.File("out"), scratch.File("err"));
  EXPECT_EQ(code, 0) << "stdout:\n"
                     << ReadFile(scratch.File("out")) << "\nstderr:\n"
                     << ReadFile(scratch.File("err"));
  EXPECT_THAT(ReadFile(scratch.File("out")), HasSubstr("[  PASSED  ] 1 test"));
}

TEST(PosixSpawnSelfTest, ChildFlagOnANonSocketIsRefused) {
  ScratchDir scratch;
  const int code = RunProgram({ThisProgram(), "--mproc-child=0"},
                              scratch.File("out"), scratch.File("err"));
  EXPECT_EQ(code, 1);
  EXPECT_THAT(ReadFile(scratch.File("err")), HasSubstr("not a socket"));
}

// The bytes a spawning parent sends: a launch request for Print(`line`).
std::string SpawnMessage(const std::string& line) {
  LaunchRequest request;
  request.child.name = "intruder";
  request.child.identity = {1};
  request.child.parent_pid = getpid();
  request.child.parent_name = "MainProcess";
  request.start_method = "spawn";
  request.target = Target(&workloads::Print, line);
  absl::StatusOr<std::string> encoded = EncodeLaunchRequest(request);
  if (!encoded.ok()) return "";
  ByteWriter body;
  body.PutBool(true);
  body.PutBytes(*encoded);
  body.PutBytes("");  // no listener
  body.PutVarint(0);  // no handed-over objects
  ByteWriter message;
  message.PutFixed64(body.data().size());
  return message.Release() + body.Release();
}

// A socketpair whose other end holds a launch request; the test's own end is
// closed, as a parent's would be after sending.
class RequestSocket {
 public:
  explicit RequestSocket(const std::string& line) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return;
    const std::string bytes = SpawnMessage(line);
    if (!bytes.empty() && write(pair[0], bytes.data(), bytes.size()) ==
                              static_cast<ssize_t>(bytes.size())) {
      fd_ = pair[1];
    } else {
      close(pair[1]);
    }
    close(pair[0]);
  }
  ~RequestSocket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

TEST(PosixSpawnSelfTest, RequestFromItsParentRuns) {
  // The control for the next test: the same request, sent by the parent.
  RequestSocket socket("the request ran");
  ASSERT_GE(socket.fd(), 0);
  ScratchDir scratch;
  const int code =
      RunProgram({ThisProgram(), absl::StrCat("--mproc-child=", socket.fd())},
                 scratch.File("out"), scratch.File("err"));
  EXPECT_EQ(code, 0) << ReadFile(scratch.File("err"));
  EXPECT_EQ(ReadFile(scratch.File("out")), "the request ran\n");
}

TEST(PosixSpawnSelfTest, RequestFromAnotherProcessIsRefused) {
  RequestSocket socket("the request ran");
  ASSERT_GE(socket.fd(), 0);
  ScratchDir scratch;
  // Started by a child of ours: the request socket is not its parent's.
  const std::vector<std::string> argv = {
      ThisProgram(), absl::StrCat("--mproc-child=", socket.fd())};
  const std::string out = scratch.File("out");
  const std::string err = scratch.File("err");
  ASSERT_OK_AND_ASSIGN(Context fork, GetContext("posix:fork"));
  Process middle = fork.NewProcess(
      Target([argv, out, err] { return RunProgram(argv, out, err); }));
  ASSERT_OK(middle.Start());
  ASSERT_OK(middle.Join(kDeadline));
  EXPECT_EQ(middle.exitcode(), 1);
  EXPECT_THAT(ReadFile(out), Not(HasSubstr("the request ran")));
  EXPECT_THAT(ReadFile(err), HasSubstr("parent"));
}

}  // namespace
}  // namespace mproc
