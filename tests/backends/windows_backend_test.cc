// Windows-only tests of the windows backend (label windows): what the
// conformance suite cannot say in OS-neutral terms.
#include "backends/windows/win32.h"
// windows.h (through win32.h) first: shellapi.h needs its types.
#include <aclapi.h>
#include <shellapi.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/context.h"
#include "api/manager.h"
#include "api/process.h"
#include "api/target.h"
#include "backends/windows/command_line.h"
#include "backends/windows/pipe_transport.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/backends/windows_probe.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"
#include "workloads/workloads.h"

namespace mproc {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(30);

// In the child: 0 when `value` names no handle of this process, 1 when it does.
int HoldsHandle(int64_t value) {
  DWORD flags = 0;
  return GetHandleInformation(
             reinterpret_cast<HANDLE>(static_cast<uintptr_t>(value)), &flags)
             ? 1
             : 0;
}
MPROC_REGISTER_TARGET(HoldsHandle);

// In the child: starts a daemon grandchild (kill_on_parent_death by default)
// that runs until terminated, writes its pid to `pid_file`, then runs until
// it is itself killed.
absl::Status StartDaemonThenWait(std::string pid_file) {
  absl::StatusOr<Context> context = GetContext("windows");
  if (!context.ok()) return context.status();
  Process daemon = context->NewProcess(Target(&workloads::RunUntilTerminated),
                                       {.daemon = true});
  if (absl::Status s = daemon.Start(); !s.ok()) return s;
  std::FILE* file = std::fopen(pid_file.c_str(), "w");
  if (file == nullptr) return absl::InternalError("cannot write the pid file");
  std::fprintf(file, "%lld\n",
               static_cast<long long>(daemon.pid().value_or(0)));
  std::fclose(file);
  workloads::RunUntilTerminated();
  return absl::OkStatus();
}
MPROC_REGISTER_TARGET(StartDaemonThenWait);

class WindowsBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Context> context = GetContext("windows");
    ASSERT_OK(context.status());
    context_.emplace(*std::move(context));
  }
  const Context& ctx() const { return *context_; }

 private:
  std::optional<Context> context_;
};

// The census the conformance suite runs in a child sees what a parent holds:
// a running child's process handle and a Manager connection's pipe.
TEST_F(WindowsBackendTest, HandleCensusCountsAChildsHandleAndAManagerPipe) {
  const int before = testing::CountHandlesForbiddenToAChild();
  absl::StatusOr<Manager> manager = ctx().StartManager();
  ASSERT_OK(manager.status());
  absl::StatusOr<ListProxy<int64_t>> list = manager->List<int64_t>();
  ASSERT_OK(list.status());
  ASSERT_OK(list->Append(1));
  Process child = ctx().NewProcess(Target(&workloads::RunUntilTerminated));
  ASSERT_OK(child.Start());
  // The Manager server's process, the child's and the connection's pipe.
  EXPECT_GE(testing::CountHandlesForbiddenToAChild(), before + 3);
  ASSERT_OK(child.Kill());
  ASSERT_OK(child.Join(kDeadline));
  ASSERT_OK(manager->Shutdown());
}

// 259 is STILL_ACTIVE's value, and a valid exit code: Wait must not take it
// for "still running".
TEST_F(WindowsBackendTest, ExitCode259IsReportedAs259) {
  Process p = ctx().NewProcess(Target(&workloads::ExitWith, int64_t{259}));
  ASSERT_OK(p.Start());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), 259);
}

// A child inherits only the handles in its PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
// not every inheritable handle of its parent.
TEST_F(WindowsBackendTest, ChildInheritsNoOtherInheritableHandle) {
  SECURITY_ATTRIBUTES inheritable{.nLength = sizeof(SECURITY_ATTRIBUTES),
                                  .lpSecurityDescriptor = nullptr,
                                  .bInheritHandle = TRUE};
  windows::Handle event(CreateEventW(&inheritable, TRUE, FALSE, nullptr));
  ASSERT_TRUE(event.valid());
  // A value the child could only hold by inheritance (its own first handles
  // are made before the target runs; this one is far above them).
  Process p = ctx().NewProcess(
      Target(&HoldsHandle,
             static_cast<int64_t>(reinterpret_cast<uintptr_t>(event.get()))));
  ASSERT_OK(p.Start());
  ASSERT_OK(p.Join(kDeadline));
  EXPECT_EQ(p.exitcode(), 0) << "the child inherited a handle not in its list";
}

// BuildCommandLine's output, split by Windows itself, gives the arguments
// back.
TEST(WindowsCommandLineTest, CommandLineToArgvWReadsBackEveryArgument) {
  const std::vector<std::string> arguments = {
      R"(C:\Program Files\mproc\t.exe)",
      "",
      "two words",
      "tab\there",
      R"(quote"inside)",
      R"(trailing\)",
      R"(with space and trailing\\)",
      R"(back\"slash quote)",
      "日本語 テキスト",
      "😀 \"😀\"",
  };
  absl::StatusOr<std::wstring> line =
      windows::Utf8ToWide(windows::BuildCommandLine(arguments));
  ASSERT_OK(line.status());
  int argc = 0;
  wchar_t** argv = CommandLineToArgvW(line->c_str(), &argc);
  ASSERT_NE(argv, nullptr);
  std::vector<std::string> parsed;
  for (int i = 0; i < argc; ++i) parsed.push_back(windows::WideToUtf8(argv[i]));
  LocalFree(argv);
  EXPECT_THAT(parsed, ::testing::ElementsAreArray(arguments));
}

TEST_F(WindowsBackendTest, TerminateAndKillUseTheMappedExitCodes) {
  Process terminated = ctx().NewProcess(Target(&workloads::RunUntilTerminated));
  ASSERT_OK(terminated.Start());
  ASSERT_OK(terminated.Terminate());
  ASSERT_OK(terminated.Join(kDeadline));
  EXPECT_EQ(terminated.exitcode(), -15);
  // Terminate of an ended child: OK, nothing happens.
  EXPECT_OK(terminated.Terminate());
  EXPECT_OK(terminated.Kill());
  EXPECT_EQ(terminated.exitcode(), -15);
}

}  // namespace
}  // namespace mproc

namespace mproc {
namespace {

// A parent killed by TerminateProcess takes its kill_on_parent_death
// children (here a daemon) with it: they are in its kill-on-close job.
TEST_F(WindowsBackendTest, KilledParentTakesItsDaemonChildWithIt) {
  wchar_t directory[MAX_PATH + 1];
  ASSERT_NE(GetTempPathW(MAX_PATH + 1, directory), 0u);
  const std::string pid_file =
      absl::StrCat(windows::WideToUtf8(directory), "mproc-daemon-",
                   GetCurrentProcessId(), ".pid");
  std::remove(pid_file.c_str());
  Process parent = ctx().NewProcess(Target(&StartDaemonThenWait, pid_file));
  ASSERT_OK(parent.Start());
  int64_t daemon_pid = 0;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        std::FILE* file = std::fopen(pid_file.c_str(), "r");
        if (file == nullptr) return false;
        long long pid = 0;
        const bool read = std::fscanf(file, "%lld", &pid) == 1;
        std::fclose(file);
        daemon_pid = pid;
        return read && pid > 0;
      },
      kDeadline))
      << "the child never wrote its daemon's pid";
  std::remove(pid_file.c_str());
  windows::Handle daemon(
      OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(daemon_pid)));
  ASSERT_TRUE(daemon.valid()) << "no process " << daemon_pid;
  ASSERT_OK(parent.Kill());
  ASSERT_OK(parent.Join(kDeadline));
  EXPECT_EQ(parent.exitcode(), -9);
  EXPECT_EQ(WaitForSingleObject(daemon.get(), 30'000), WAIT_OBJECT_0)
      << "the daemon outlived its killed parent";
}

}  // namespace
}  // namespace mproc

namespace mproc {
namespace {

// The Manager pipe's DACL is protected and has one ACE: full access for this
// process's user. Nobody else (Everyone, Anonymous, other users) is granted.
TEST(WindowsPipeTest, PipeDaclGrantsTheCurrentUserAlone) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Listener> listener,
                       windows::ListenPipe());
  auto* pipe = dynamic_cast<windows::PipeListener*>(listener.get());
  ASSERT_NE(pipe, nullptr);
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  ASSERT_EQ(GetSecurityInfo(pipe->instance(), SE_KERNEL_OBJECT,
                            DACL_SECURITY_INFORMATION, nullptr, nullptr, &dacl,
                            nullptr, &descriptor),
            ERROR_SUCCESS);
  ASSERT_NE(dacl, nullptr) << "a null DACL grants everyone everything";
  EXPECT_EQ(dacl->AceCount, 1);
  void* ace = nullptr;
  ASSERT_TRUE(GetAce(dacl, 0, &ace));
  const auto* allowed = static_cast<const ACCESS_ALLOWED_ACE*>(ace);
  EXPECT_EQ(allowed->Header.AceType, ACCESS_ALLOWED_ACE_TYPE);

  HANDLE token = nullptr;
  ASSERT_TRUE(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
  windows::Handle token_owner(token);
  std::vector<char> user(256);
  DWORD size = 0;
  ASSERT_TRUE(GetTokenInformation(token, TokenUser, user.data(),
                                  static_cast<DWORD>(user.size()), &size));
  PSID ace_sid = const_cast<DWORD*>(&allowed->SidStart);
  EXPECT_TRUE(
      EqualSid(ace_sid, reinterpret_cast<TOKEN_USER*>(user.data())->User.Sid))
      << "the one ACE is not for this process's user";
  LocalFree(descriptor);
  listener->Close();
}

// A client whose identity the DACL does not name (here the anonymous logon,
// impersonated on this thread) cannot open the pipe.
TEST(WindowsPipeTest, PipeRefusesAClientTheDaclDoesNotName) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Listener> listener,
                       windows::ListenPipe());
  ASSERT_OK_AND_ASSIGN(std::wstring name,
                       windows::Utf8ToWide(listener->address()));
  ASSERT_TRUE(ImpersonateAnonymousToken(GetCurrentThread())) << GetLastError();
  HANDLE client = CreateFileW(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0,
                              nullptr, OPEN_EXISTING, 0, nullptr);
  const DWORD error = GetLastError();
  ASSERT_TRUE(RevertToSelf());
  windows::Handle client_owner(client);
  EXPECT_FALSE(client_owner.valid()) << "the anonymous logon opened the pipe";
  EXPECT_EQ(error, ERROR_ACCESS_DENIED);
  listener->Close();
}

}  // namespace
}  // namespace mproc
