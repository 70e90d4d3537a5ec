// -----------------------------------------------------------------------------
// File: tests/backends/windows_probe.h
// -----------------------------------------------------------------------------
//
// The windows backend's resource probe for the conformance suite.

#ifndef MPROC_TESTS_BACKENDS_WINDOWS_PROBE_H_
#define MPROC_TESTS_BACKENDS_WINDOWS_PROBE_H_

#include <winternl.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <vector>

#include "backends/windows/pipe_transport.h"
#include "backends/windows/win32.h"
#include "backends/windows/windows_launch.h"
#include "tests/conformance/conformance.h"

namespace mproc::testing {

// The values of this process's open handles, from
// NtQuerySystemInformation(SystemHandleInformation) (which Wine 8 keeps);
// empty if the system refuses.
inline std::vector<HANDLE> OwnHandles() {
  struct Entry {  // SYSTEM_HANDLE_TABLE_ENTRY_INFO
    ULONG pid;
    UCHAR type;
    UCHAR flags;
    USHORT handle;
    void* object;
    ACCESS_MASK access;
  };
  constexpr auto kSystemHandleInformation =
      static_cast<SYSTEM_INFORMATION_CLASS>(16);
  constexpr NTSTATUS kInfoLengthMismatch = static_cast<NTSTATUS>(0xC0000004L);
  std::vector<char> buffer(1 << 20);
  while (true) {
    ULONG needed = 0;
    const NTSTATUS status =
        NtQuerySystemInformation(kSystemHandleInformation, buffer.data(),
                                 static_cast<ULONG>(buffer.size()), &needed);
    if (status == kInfoLengthMismatch) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (status < 0) return {};
    break;
  }
  const ULONG entries = *reinterpret_cast<const ULONG*>(buffer.data());
  const auto* entry =
      reinterpret_cast<const Entry*>(buffer.data() + sizeof(ULONG_PTR));
  const ULONG self = GetCurrentProcessId();
  std::vector<HANDLE> mine;
  for (ULONG i = 0; i < entries; ++i) {
    if (entry[i].pid == self) {
      mine.push_back(
          reinterpret_cast<HANDLE>(static_cast<uintptr_t>(entry[i].handle)));
    }
  }
  return mine;
}

// This process's open handles, as the system counts them: every kind, not
// only the backend's. GetProcessHandleCount; Wine 8 does not implement it
// (it answers 0, which no live process has), and there OwnHandles().
inline int64_t CountOpenHandles() {
  DWORD count = 0;
  if (GetProcessHandleCount(GetCurrentProcess(), &count) && count > 0) {
    return count;
  }
  const std::vector<HANDLE> handles = OwnHandles();
  return handles.empty() ? -1 : static_cast<int64_t>(handles.size());
}

// The handles this process holds that docs/design.md §5 forbids a child: one
// on another process (its parent's other children) and a pipe that is not
// one of its standard streams (a Manager connection, another child's launch
// pipe).
inline int CountHandlesForbiddenToAChild() {
  const HANDLE stdio[] = {GetStdHandle(STD_INPUT_HANDLE),
                          GetStdHandle(STD_OUTPUT_HANDLE),
                          GetStdHandle(STD_ERROR_HANDLE)};
  int forbidden = 0;
  for (HANDLE handle : OwnHandles()) {
    if (std::find(std::begin(stdio), std::end(stdio), handle) !=
        std::end(stdio)) {
      continue;
    }
    const DWORD pid = GetProcessId(handle);
    if (pid != 0 && pid != GetCurrentProcessId()) {
      ++forbidden;
    } else if (pid == 0 && GetFileType(handle) == FILE_TYPE_PIPE) {
      ++forbidden;
    }
  }
  return forbidden;
}

// Processes alive in this process's jobs, and the handles the backend holds
// open (children's processes, pipes, events, sections, semaphores: every
// one lives in a windows::Handle). Not CountOpenHandles: under Wine a
// process's own count also moves with handles Wine opens for itself, lazily
// (+1 to +3 across a test that only skips, in 4 of the suite's tests), so it
// cannot be compared test by test; the windows-only tests use it around
// what they make.
inline conformance::ResourceSnapshot ProbeWindowsResources() {
  return {.children = windows::LiveJobProcessCount(),
          .descriptors = windows::OpenHandleCount()};
}

}  // namespace mproc::testing

#endif  // MPROC_TESTS_BACKENDS_WINDOWS_PROBE_H_
