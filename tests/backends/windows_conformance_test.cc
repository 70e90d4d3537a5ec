// The conformance suite on the windows backend, with the optional hooks it
// can answer by Win32's own means. No leave_stale_address: a named pipe ends
// with its last handle, so a killed Manager owner leaves nothing at its
// address.
#include <cstdint>

#include "api/exit_status.h"
#include "api/target.h"
#include "backends/windows/win32.h"
#include "tests/backends/windows_probe.h"
#include "tests/conformance/conformance.h"

namespace mproc::testing {
namespace {

// True while `handle` (a process or thread, or null) has not ended.
bool Running(HANDLE handle) {
  if (handle == nullptr) return false;
  const bool running = WaitForSingleObject(handle, 0) == WAIT_TIMEOUT;
  CloseHandle(handle);
  return running;
}

bool IsPidAlive(int64_t pid) {
  HANDLE process = OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(pid));
  // A process this user may not open exists, so it runs.
  if (process == nullptr) return GetLastError() == ERROR_ACCESS_DENIED;
  return Running(process);
}

void KillPid(int64_t pid) {
  HANDLE process =
      OpenProcess(PROCESS_TERMINATE, FALSE, static_cast<DWORD>(pid));
  if (process == nullptr) return;
  (void)TerminateProcess(process, kWindowsKillCode);
  CloseHandle(process);
}

// In the child: the handles docs/design.md §5 forbids it (windows_probe.h).
int CountForbiddenHandles() { return CountHandlesForbiddenToAChild(); }
MPROC_REGISTER_TARGET(CountForbiddenHandles);

int64_t OsThreadId() { return GetCurrentThreadId(); }

bool IsOsThreadAlive(int64_t tid) {
  return Running(OpenThread(SYNCHRONIZE, FALSE, static_cast<DWORD>(tid)));
}

}  // namespace
}  // namespace mproc::testing

MPROC_INSTANTIATE_CONFORMANCE_SUITE(
    Windows,
    (mproc::conformance::BackendUnderTest{
        .label = "Windows",
        .context = "windows",
        .probe = &mproc::testing::ProbeWindowsResources,
        .is_pid_alive = &mproc::testing::IsPidAlive,
        .kill_pid = &mproc::testing::KillPid,
        .forbidden_descriptor_census =
            [] {
              return mproc::Target(&mproc::testing::CountForbiddenHandles);
            },
        .os_thread_id = &mproc::testing::OsThreadId,
        .is_os_thread_alive = &mproc::testing::IsOsThreadAlive}));
