// The conformance suite on the thread backend.
#include "tests/backends/thread_probe.h"
#include "tests/conformance/conformance.h"

MPROC_INSTANTIATE_CONFORMANCE_SUITE(
    Thread, (mproc::conformance::BackendUnderTest{
                .label = "Thread",
                .context = "thread",
                .probe = &mproc::testing::ProbeThreadResources}));
