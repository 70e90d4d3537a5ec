// The soak suite on the posix backend, once per start method.
#include "tests/backends/posix_probe.h"
#include "tests/stress/soak.h"

MPROC_INSTANTIATE_SOAK_SUITE(
    PosixFork, (mproc::conformance::BackendUnderTest{
                   .label = "PosixFork",
                   .context = "posix:fork",
                   .probe = &mproc::testing::ProbePosixResources}));

MPROC_INSTANTIATE_SOAK_SUITE(
    PosixSpawn, (mproc::conformance::BackendUnderTest{
                    .label = "PosixSpawn",
                    .context = "posix:spawn",
                    .probe = &mproc::testing::ProbePosixResources}));
