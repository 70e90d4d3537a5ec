// Windows only: Launch (parent side), the Child handle, and the child side.
#include "backends/windows/windows_launch.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api/wire.h"
#include "backends/windows/command_line.h"
#include "backends/windows/pipe_transport.h"
#include "backends/windows/win32.h"
#include "backends/windows/windows_shared.h"

namespace mproc::windows {
namespace {

// The two jobs of this process, made on first use and held open for its
// whole life (never closed, so not counted as open handles): closing the
// kill-on-close one, which Windows does when this process ends however it
// ends, kills every process in it.
struct Jobs {
  HANDLE kill_on_close = nullptr;
  HANDLE plain = nullptr;
  absl::Status status;
};

HANDLE NewJob(bool kill_on_close, absl::Status& status) {
  HANDLE job = CreateJobObjectW(nullptr, nullptr);
  if (job == nullptr) {
    status = LastErrorStatus("CreateJobObjectW", "close handles or processes");
    return nullptr;
  }
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  // Our children may put their own children in their own jobs (nested jobs)
  // or let them break away.
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_BREAKAWAY_OK;
  if (kill_on_close) {
    limits.BasicLimitInformation.LimitFlags |=
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  }
  if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits,
                               sizeof(limits))) {
    status = LastErrorStatus("SetInformationJobObject");
    CloseHandle(job);
    return nullptr;
  }
  return job;
}

const Jobs& GetJobs() {
  static const Jobs* const jobs = [] {
    auto* made = new Jobs;  // never destroyed: see Jobs
    made->kill_on_close = NewJob(true, made->status);
    if (made->status.ok()) made->plain = NewJob(false, made->status);
    return made;
  }();
  return *jobs;
}

int64_t ActiveProcesses(HANDLE job) {
  if (job == nullptr) return 0;
  JOBOBJECT_BASIC_ACCOUNTING_INFORMATION info{};
  if (!QueryInformationJobObject(job, JobObjectBasicAccountingInformation,
                                 &info, sizeof(info), nullptr)) {
    return 0;
  }
  return info.ActiveProcesses;
}

// This program's path (GetModuleFileNameW), for re-executing it.
absl::StatusOr<std::wstring> SelfProgram() {
  std::wstring path(MAX_PATH, L'\0');
  while (true) {
    const DWORD n = GetModuleFileNameW(nullptr, path.data(),
                                       static_cast<DWORD>(path.size()));
    if (n == 0) return LastErrorStatus("GetModuleFileNameW");
    if (n < path.size()) {
      path.resize(n);
      return path;
    }
    path.resize(path.size() * 2);
  }
}

// An inheritable duplicate of this process's standard handle `which`, or an
// invalid Handle when there is none.
Handle InheritableStdHandle(DWORD which) {
  HANDLE handle = GetStdHandle(which);
  if (handle == nullptr || handle == INVALID_HANDLE_VALUE) return Handle();
  HANDLE copy = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), handle, GetCurrentProcess(), &copy,
                       0, TRUE, DUPLICATE_SAME_ACCESS)) {
    return Handle();
  }
  return Handle(copy);
}

class WindowsChild final : public Child {
 public:
  WindowsChild(Handle process, DWORD pid)
      : process_(std::move(process)), pid_(pid) {}

  int64_t pid() const override { return pid_; }

  absl::StatusOr<std::optional<ExitStatus>> Wait(absl::Time deadline) override {
    {
      absl::ReaderMutexLock lock(&mu_);
      if (status_.has_value()) return status_;
      while (true) {
        const DWORD result =
            WaitForSingleObject(process_.get(), MillisecondsUntil(deadline));
        if (result == WAIT_OBJECT_0) break;
        if (result == WAIT_FAILED) {
          return LastErrorStatus("WaitForSingleObject(child process)");
        }
        // WAIT_TIMEOUT: a far deadline is waited for in capped steps.
        if (absl::Now() >= deadline) return std::nullopt;
      }
    }
    absl::WriterMutexLock lock(&mu_);
    if (status_.has_value()) return status_;  // another thread reaped it
    DWORD code = 0;
    // Never `== STILL_ACTIVE` as a liveness test: the process is signalled,
    // so 259 is its real exit code.
    if (!GetExitCodeProcess(process_.get(), &code)) {
      return LastErrorStatus("GetExitCodeProcess");
    }
    status_ = ExitStatus::FromWindowsExitCode(code);
    process_.Reset();  // reaped: nothing of the child is held any more
    return status_;
  }

  absl::Status Terminate() override { return End(kWindowsTerminateCode); }
  absl::Status Kill() override { return End(kWindowsKillCode); }

  // A copy of the process handle (SYNCHRONIZE), or none once reaped.
  [[nodiscard]] absl::StatusOr<Handle> DuplicateProcess() {
    absl::ReaderMutexLock lock(&mu_);
    if (status_.has_value()) return Handle();
    HANDLE copy = nullptr;
    if (!DuplicateHandle(GetCurrentProcess(), process_.get(),
                         GetCurrentProcess(), &copy, SYNCHRONIZE, FALSE, 0)) {
      return LastErrorStatus("DuplicateHandle(child process)");
    }
    return Handle(copy);
  }

 private:
  absl::Status End(UINT code) {
    absl::ReaderMutexLock lock(&mu_);
    if (status_.has_value()) return absl::OkStatus();
    if (WaitForSingleObject(process_.get(), 0) == WAIT_OBJECT_0) {
      return absl::OkStatus();  // already ended
    }
    if (!TerminateProcess(process_.get(), code)) {
      const DWORD error = GetLastError();
      // It ended between the check and the call (ERROR_ACCESS_DENIED).
      if (WaitForSingleObject(process_.get(), 0) == WAIT_OBJECT_0) {
        return absl::OkStatus();
      }
      return Win32ErrorToStatus(error, "TerminateProcess(child)");
    }
    return absl::OkStatus();
  }

  absl::Mutex mu_;
  // Valid until reaped; Wait/End use it under a reader lock, the reaper
  // closes it under the writer lock.
  Handle process_ ABSL_GUARDED_BY(mu_);
  const DWORD pid_;
  std::optional<ExitStatus> status_ ABSL_GUARDED_BY(mu_);
};

// Ends a child that cannot be handed out, and waits for it to be gone.
void KillNow(HANDLE process) {
  (void)TerminateProcess(process, kWindowsKillCode);
  (void)WaitForSingleObject(process, INFINITE);
}

absl::Status WriteAllToPipe(HANDLE pipe, absl::string_view bytes) {
  while (!bytes.empty()) {
    DWORD written = 0;
    const DWORD chunk =
        static_cast<DWORD>(std::min<size_t>(bytes.size(), 1 << 20));
    if (!WriteFile(pipe, bytes.data(), chunk, &written, nullptr)) {
      return LastErrorStatus("WriteFile(launch request)",
                             "the child ended before reading its request");
    }
    bytes.remove_prefix(written);
  }
  return absl::OkStatus();
}

absl::Status ReadExactly(HANDLE pipe, std::string& out) {
  size_t done = 0;
  while (done < out.size()) {
    DWORD n = 0;
    const DWORD chunk =
        static_cast<DWORD>(std::min<size_t>(out.size() - done, 1 << 20));
    if (!ReadFile(pipe, out.data() + done, chunk, &n, nullptr)) {
      return LastErrorStatus("ReadFile(launch request)",
                             "the parent died before sending it?");
    }
    if (n == 0) {
      return absl::InvalidArgumentError(
          "the launch request ended early (the parent died?)");
    }
    done += n;
  }
  return absl::OkStatus();
}

[[noreturn]] void FailLaunch(const absl::Status& why) {
  std::fprintf(stderr, "mproc: this child cannot start: %s\n",
               why.ToString().c_str());
  std::fflush(stderr);
  ExitProcess(1);
}

// One entry of the handover table as the launch message lists it.
struct HandoverEntry {
  WindowsShared::Kind kind = WindowsShared::Kind::kMemory;
  uint64_t size = 0;
  uint64_t handle = 0;
};

struct ChildMessage {
  LaunchRequest request;
  std::string listener_address;
  uint64_t listener_handle = 0;
  std::vector<HandoverEntry> handovers;
};

absl::StatusOr<ChildMessage> ReadMessage(HANDLE pipe) {
  std::string header(8, '\0');
  if (absl::Status s = ReadExactly(pipe, header); !s.ok()) return s;
  absl::StatusOr<uint64_t> size = ByteReader(header).GetFixed64();
  if (!size.ok()) return size.status();
  if (*size > kMaxRequestBytes) {
    return absl::InvalidArgumentError("the launch request is too large");
  }
  std::string body(*size, '\0');
  if (absl::Status s = ReadExactly(pipe, body); !s.ok()) return s;
  ByteReader in(body);
  ChildMessage message;
  absl::StatusOr<absl::string_view> encoded = in.GetBytes();
  if (!encoded.ok()) return encoded.status();
  absl::StatusOr<LaunchRequest> request = DecodeLaunchRequest(*encoded);
  if (!request.ok()) return request.status();
  message.request = *std::move(request);
  absl::StatusOr<absl::string_view> address = in.GetBytes();
  if (!address.ok()) return address.status();
  message.listener_address = std::string(*address);
  absl::StatusOr<uint64_t> handle = in.GetFixed64();
  if (!handle.ok()) return handle.status();
  message.listener_handle = *handle;
  absl::StatusOr<uint64_t> count = in.GetVarint();
  if (!count.ok()) return count.status();
  if (*count > kMaxHandovers) {
    return absl::InvalidArgumentError("the handover table is too large");
  }
  for (uint64_t i = 0; i < *count; ++i) {
    absl::StatusOr<uint64_t> kind = in.GetVarint();
    if (!kind.ok()) return kind.status();
    absl::StatusOr<uint64_t> size = in.GetVarint();
    if (!size.ok()) return size.status();
    absl::StatusOr<uint64_t> value = in.GetFixed64();
    if (!value.ok()) return value.status();
    if (*kind > static_cast<uint64_t>(WindowsShared::kLastKind)) {
      return absl::InvalidArgumentError("unknown shared object kind");
    }
    message.handovers.push_back(
        {.kind = static_cast<WindowsShared::Kind>(*kind),
         .size = *size,
         .handle = *value});
  }
  if (absl::Status end = in.ExpectEnd(); !end.ok()) return end;
  return message;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Child>> LaunchChild(
    Backend* backend, const LaunchRequest& request) {
  (void)backend;
  PipeListener* listener = nullptr;
  if (request.listener != nullptr) {
    listener = dynamic_cast<PipeListener*>(request.listener.get());
    if (listener == nullptr) {
      return absl::InvalidArgumentError(
          "the Manager listener was not made by the windows backend; use "
          "GetContext(\"windows\").Manager()");
    }
  }
  absl::StatusOr<std::vector<const WindowsShared*>> handovers =
      WindowsHandovers(request.handovers);
  if (!handovers.ok()) return handovers.status();
  if (handovers->size() > kMaxHandovers) {
    return absl::InvalidArgumentError(
        absl::StrCat("a child can be handed at most ", kMaxHandovers,
                     " shared-state objects, not ", handovers->size()));
  }
  absl::StatusOr<std::string> encoded = EncodeLaunchRequest(request);
  if (!encoded.ok()) return encoded.status();
  const Jobs& jobs = GetJobs();
  if (!jobs.status.ok()) return jobs.status;
  absl::StatusOr<std::wstring> program = SelfProgram();
  if (!program.ok()) return program.status();

  // The request pipe: the child inherits the read end.
  HANDLE read_end = nullptr;
  HANDLE write_end = nullptr;
  if (!CreatePipe(&read_end, &write_end, nullptr, 0)) {
    return LastErrorStatus("CreatePipe(launch request)",
                           "close handles or processes");
  }
  Handle request_read(read_end);
  Handle request_write(write_end);
  if (!SetHandleInformation(request_read.get(), HANDLE_FLAG_INHERIT,
                            HANDLE_FLAG_INHERIT)) {
    return LastErrorStatus("SetHandleInformation(launch request pipe)");
  }

  // Exactly the handles the child inherits.
  std::vector<HANDLE> inherited = {request_read.get()};
  Handle std_handles[3] = {InheritableStdHandle(STD_INPUT_HANDLE),
                           InheritableStdHandle(STD_OUTPUT_HANDLE),
                           InheritableStdHandle(STD_ERROR_HANDLE)};
  for (const Handle& h : std_handles) {
    if (h.valid()) inherited.push_back(h.get());
  }
  Handle listener_copy;
  if (listener != nullptr) {
    HANDLE copy = nullptr;
    if (!DuplicateHandle(GetCurrentProcess(), listener->instance(),
                         GetCurrentProcess(), &copy, 0, TRUE,
                         DUPLICATE_SAME_ACCESS)) {
      return LastErrorStatus("DuplicateHandle(Manager listener)");
    }
    listener_copy.Reset(copy);
    inherited.push_back(listener_copy.get());
  }
  // Inheritable copies of the handover table's handles, for this launch
  // only (the originals stay non-inheritable).
  std::vector<Handle> handover_copies;
  handover_copies.reserve(handovers->size());
  for (const WindowsShared* object : *handovers) {
    HANDLE copy = nullptr;
    if (!DuplicateHandle(GetCurrentProcess(), object->handle(),
                         GetCurrentProcess(), &copy, 0, TRUE,
                         DUPLICATE_SAME_ACCESS)) {
      return LastErrorStatus("DuplicateHandle(shared-state object)",
                             "close handles");
    }
    handover_copies.emplace_back(copy);
    inherited.push_back(copy);
  }

  SIZE_T attribute_size = 0;
  (void)InitializeProcThreadAttributeList(nullptr, 1, 0, &attribute_size);
  std::vector<char> attribute_storage(attribute_size);
  auto* attributes =
      reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attribute_storage.data());
  if (!InitializeProcThreadAttributeList(attributes, 1, 0, &attribute_size)) {
    return LastErrorStatus("InitializeProcThreadAttributeList");
  }
  struct AttributeListGuard {
    LPPROC_THREAD_ATTRIBUTE_LIST list;
    ~AttributeListGuard() { DeleteProcThreadAttributeList(list); }
  } attribute_guard{attributes};
  if (!UpdateProcThreadAttribute(
          attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherited.data(),
          inherited.size() * sizeof(HANDLE), nullptr, nullptr)) {
    return LastErrorStatus("UpdateProcThreadAttribute(HANDLE_LIST)");
  }

  STARTUPINFOEXW startup{};
  startup.StartupInfo.cb = sizeof(startup);
  startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  startup.StartupInfo.hStdInput = std_handles[0].get();
  startup.StartupInfo.hStdOutput = std_handles[1].get();
  startup.StartupInfo.hStdError = std_handles[2].get();
  startup.lpAttributeList = attributes;

  const std::string handle_value =
      absl::StrCat(reinterpret_cast<uintptr_t>(request_read.get()));
  absl::StatusOr<std::wstring> command_line = Utf8ToWide(BuildCommandLine(
      {WideToUtf8(*program), absl::StrCat(kChildFlag, handle_value)}));
  if (!command_line.ok()) return command_line.status();

  const HANDLE job =
      request.child.kill_on_parent_death ? jobs.kill_on_close : jobs.plain;
  PROCESS_INFORMATION info{};
  DWORD flags = CREATE_SUSPENDED | EXTENDED_STARTUPINFO_PRESENT |
                CREATE_UNICODE_ENVIRONMENT | CREATE_BREAKAWAY_FROM_JOB;
  BOOL created = CreateProcessW(program->c_str(), command_line->data(), nullptr,
                                nullptr, TRUE, flags, nullptr, nullptr,
                                &startup.StartupInfo, &info);
  if (!created && GetLastError() == ERROR_ACCESS_DENIED) {
    // This process is in a job that forbids breakaway (a CI runner's, say):
    // the child stays in it as well as in ours (nested jobs).
    flags &= ~static_cast<DWORD>(CREATE_BREAKAWAY_FROM_JOB);
    created = CreateProcessW(program->c_str(), command_line->data(), nullptr,
                             nullptr, TRUE, flags, nullptr, nullptr,
                             &startup.StartupInfo, &info);
  }
  if (!created) {
    return LastErrorStatus("CreateProcessW(this program)",
                           "check that the program file is still there and "
                           "that handles and memory are available");
  }
  Handle process(info.hProcess);
  Handle thread(info.hThread);
  if (!AssignProcessToJobObject(job, process.get())) {
    absl::Status status = LastErrorStatus("AssignProcessToJobObject");
    KillNow(process.get());
    return status;
  }
  if (ResumeThread(thread.get()) == static_cast<DWORD>(-1)) {
    absl::Status status = LastErrorStatus("ResumeThread(child)");
    KillNow(process.get());
    return status;
  }
  thread.Reset();
  // The child has its copies now.
  request_read.Reset();
  for (Handle& h : std_handles) h.Reset();
  const uint64_t listener_value =
      reinterpret_cast<uintptr_t>(listener_copy.get());
  listener_copy.Reset();
  std::vector<uint64_t> handover_values;
  handover_values.reserve(handover_copies.size());
  for (Handle& h : handover_copies) {
    handover_values.push_back(reinterpret_cast<uintptr_t>(h.get()));
    h.Reset();
  }

  ByteWriter body;
  body.PutBytes(*encoded);
  body.PutBytes(listener != nullptr ? listener->address() : "");
  body.PutFixed64(listener_value);
  body.PutVarint(handovers->size());
  for (size_t i = 0; i < handovers->size(); ++i) {
    body.PutVarint(static_cast<uint64_t>((*handovers)[i]->kind()));
    body.PutVarint((*handovers)[i]->size());
    body.PutFixed64(handover_values[i]);
  }
  ByteWriter message;
  message.PutFixed64(body.data().size());
  if (absl::Status s =
          WriteAllToPipe(request_write.get(), message.data() + body.data());
      !s.ok()) {
    KillNow(process.get());
    return s;
  }
  request_write.Reset();
  if (listener != nullptr) listener->MarkHandedOver();
  return std::make_unique<WindowsChild>(std::move(process), info.dwProcessId);
}

void RunWindowsChildIfRequested(Backend* backend, int argc, char** argv) {
  if (argc != 2 || !absl::StartsWith(argv[1], kChildFlag)) return;
  uint64_t value = 0;
  if (!absl::SimpleAtoi(argv[1] + kChildFlag.size(), &value) || value == 0) {
    FailLaunch(absl::InvalidArgumentError(
        absl::StrCat("bad command line flag ", argv[1],
                     "; the flag is for children that mproc's windows "
                     "backend starts; do not pass it by hand")));
  }
  Handle pipe(reinterpret_cast<HANDLE>(static_cast<uintptr_t>(value)));
  if (GetFileType(pipe.get()) != FILE_TYPE_PIPE) {
    FailLaunch(absl::FailedPreconditionError(
        absl::StrCat("handle ", value, " of ", argv[1],
                     " is not a pipe; the flag is for children that mproc's "
                     "windows backend starts; do not pass it by hand")));
  }
  absl::StatusOr<ChildMessage> message = ReadMessage(pipe.get());
  pipe.Reset();
  if (!message.ok()) {
    FailLaunch(absl::Status(
        message.status().code(),
        absl::StrCat(message.status().message(),
                     "; parent and child must be the same build of the "
                     "program")));
  }
  std::shared_ptr<Listener> listener;
  if (!message->listener_address.empty()) {
    listener = AdoptPipeListener(
        Handle(reinterpret_cast<HANDLE>(
            static_cast<uintptr_t>(message->listener_handle))),
        message->listener_address);
  }
  std::vector<std::shared_ptr<SharedObject>> handovers;
  handovers.reserve(message->handovers.size());
  for (const HandoverEntry& entry : message->handovers) {
    absl::StatusOr<std::shared_ptr<SharedObject>> object = AdoptWindowsShared(
        entry.kind,
        Handle(reinterpret_cast<HANDLE>(static_cast<uintptr_t>(entry.handle))),
        static_cast<size_t>(entry.size));
    if (!object.ok()) FailLaunch(object.status());
    handovers.push_back(*std::move(object));
  }
  const ExitStatus status = RunChild(
      message->request, ChildRuntime{.pid = GetCurrentProcessId(),
                                     .backend = backend,
                                     .owns_process = true,
                                     .listener = std::move(listener),
                                     .handovers = std::move(handovers)});
  std::fflush(nullptr);
  if (status.signaled()) {
    // Not expected in a real process (no cancellation flag), but honoured.
    ExitProcess(status.signal() == kKillSignal ? kWindowsKillCode
                                               : kWindowsTerminateCode);
  }
  ExitProcess(static_cast<UINT>(status.code()));
}

absl::StatusOr<Handle> DuplicateChildProcessHandle(Child& child) {
  auto* windows_child = dynamic_cast<WindowsChild*>(&child);
  if (windows_child == nullptr) {
    return absl::InvalidArgumentError(
        "a Process of another backend was passed to windows' Wait; wait on "
        "objects of one context's backend");
  }
  return windows_child->DuplicateProcess();
}

int64_t LiveJobProcessCount() {
  const Jobs& jobs = GetJobs();
  return ActiveProcesses(jobs.kill_on_close) + ActiveProcesses(jobs.plain);
}

}  // namespace mproc::windows
