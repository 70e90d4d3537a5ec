// -----------------------------------------------------------------------------
// File: tests/backends/windows_probe.h
// -----------------------------------------------------------------------------
//
// The windows backend's resource probe for the conformance suite.

#ifndef MPROC_TESTS_BACKENDS_WINDOWS_PROBE_H_
#define MPROC_TESTS_BACKENDS_WINDOWS_PROBE_H_

#include "backends/windows/pipe_transport.h"
#include "backends/windows/win32.h"
#include "backends/windows/windows_launch.h"
#include "tests/conformance/conformance.h"

namespace mproc::testing {

// Processes alive in this process's jobs, and the handles the backend holds
// open (children's processes, pipes, events).
inline conformance::ResourceSnapshot ProbeWindowsResources() {
  return {.children = windows::LiveJobProcessCount(),
          .descriptors = windows::OpenHandleCount()};
}

}  // namespace mproc::testing

#endif  // MPROC_TESTS_BACKENDS_WINDOWS_PROBE_H_
