// The soak suite on the windows backend.
#include "tests/backends/windows_probe.h"
#include "tests/stress/soak.h"

MPROC_INSTANTIATE_SOAK_SUITE(
    Windows, (mproc::conformance::BackendUnderTest{
                 .label = "Windows",
                 .context = "windows",
                 .probe = &mproc::testing::ProbeWindowsResources}));
