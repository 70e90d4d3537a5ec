// The soak suite on the thread backend.
#include "tests/backends/thread_probe.h"
#include "tests/stress/soak.h"

MPROC_INSTANTIATE_SOAK_SUITE(
    Thread, (mproc::conformance::BackendUnderTest{
                .label = "Thread",
                .context = "thread",
                .probe = &mproc::testing::ProbeThreadResources}));
