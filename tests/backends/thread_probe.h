// -----------------------------------------------------------------------------
// File: tests/backends/thread_probe.h
// -----------------------------------------------------------------------------
//
// The thread backend's resource probe for the conformance suite.

#ifndef MPROC_TESTS_BACKENDS_THREAD_PROBE_H_
#define MPROC_TESTS_BACKENDS_THREAD_PROBE_H_

#include "backends/thread/thread_resources.h"
#include "tests/conformance/conformance.h"

namespace mproc::testing {

// Unreaped thread children; open in-memory channels, listeners, shared
// objects and channel end holds.
inline conformance::ResourceSnapshot ProbeThreadResources() {
  return {.children = thread::UnreapedChildCount(),
          .descriptors = thread::OpenTransportCount() +
                         thread::OpenSharedObjectCount() +
                         thread::OpenChannelEndCount()};
}

}  // namespace mproc::testing

#endif  // MPROC_TESTS_BACKENDS_THREAD_PROBE_H_
