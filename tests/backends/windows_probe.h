// -----------------------------------------------------------------------------
// File: tests/backends/windows_probe.h
// -----------------------------------------------------------------------------
//
// The windows backend's resource probe for the conformance suite.

#ifndef MPROC_TESTS_BACKENDS_WINDOWS_PROBE_H_
#define MPROC_TESTS_BACKENDS_WINDOWS_PROBE_H_

#include <winternl.h>

#include <cstdint>
#include <vector>

#include "backends/windows/pipe_transport.h"
#include "backends/windows/win32.h"
#include "backends/windows/windows_launch.h"
#include "tests/conformance/conformance.h"

namespace mproc::testing {

// This process's open handles, as the system counts them: every kind, not
// only the backend's. GetProcessHandleCount; Wine 8 does not implement it
// (it answers 0, which no live process has), and there the process's
// entries in NtQuerySystemInformation(SystemHandleInformation), which Wine
// does keep.
inline int64_t CountOpenHandles() {
  DWORD count = 0;
  if (GetProcessHandleCount(GetCurrentProcess(), &count) && count > 0) {
    return count;
  }
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
    if (status < 0) return -1;
    break;
  }
  const ULONG entries = *reinterpret_cast<const ULONG*>(buffer.data());
  const auto* entry =
      reinterpret_cast<const Entry*>(buffer.data() + sizeof(ULONG_PTR));
  const ULONG self = GetCurrentProcessId();
  int64_t mine = 0;
  for (ULONG i = 0; i < entries; ++i) mine += entry[i].pid == self ? 1 : 0;
  return mine;
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
