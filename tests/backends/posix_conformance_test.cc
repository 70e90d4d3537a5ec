// The conformance suite on the posix backend, once per start method.
#include "tests/backends/posix_conformance_hooks.h"
#include "tests/conformance/conformance.h"

MPROC_INSTANTIATE_CONFORMANCE_SUITE(
    PosixFork, mproc::testing::PosixUnderTest("PosixFork", "posix:fork"));

MPROC_INSTANTIATE_CONFORMANCE_SUITE(
    PosixSpawn, mproc::testing::PosixUnderTest("PosixSpawn", "posix:spawn"));
