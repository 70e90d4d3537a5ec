// The conformance suite on the windows backend.
#include "tests/backends/windows_probe.h"
#include "tests/conformance/conformance.h"

MPROC_INSTANTIATE_CONFORMANCE_SUITE(
    Windows, (mproc::conformance::BackendUnderTest{
                 .label = "Windows",
                 .context = "windows",
                 .probe = &mproc::testing::ProbeWindowsResources}));
