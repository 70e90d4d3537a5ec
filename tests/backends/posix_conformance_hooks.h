// -----------------------------------------------------------------------------
// File: tests/backends/posix_conformance_hooks.h
// -----------------------------------------------------------------------------
//
// POSIX only (Linux /proc where noted): the posix backend's BackendUnderTest,
// with its probe and every optional hook of the conformance suite.

#ifndef MPROC_TESTS_BACKENDS_POSIX_CONFORMANCE_HOOKS_H_
#define MPROC_TESTS_BACKENDS_POSIX_CONFORMANCE_HOOKS_H_

#include <string>

#include "tests/conformance/conformance.h"

namespace mproc::testing {

// `label` and `context` ("posix:fork", ...) with the posix probe and hooks.
conformance::BackendUnderTest PosixUnderTest(std::string label,
                                             std::string context);

}  // namespace mproc::testing

#endif  // MPROC_TESTS_BACKENDS_POSIX_CONFORMANCE_HOOKS_H_
