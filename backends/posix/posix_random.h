// -----------------------------------------------------------------------------
// File: backends/posix/posix_random.h
// -----------------------------------------------------------------------------
//
// POSIX only: the OS's secure random source. getrandom(2) where the platform
// has it (detected at configure time: MPROC_POSIX_HAVE_GETRANDOM), else
// arc4random_buf(3) (the BSDs, macOS; MPROC_POSIX_HAVE_ARC4RANDOM_BUF), else
// reads of /dev/urandom. MPROC_POSIX_PORTABLE=ON at configure time takes the
// /dev/urandom path on any system.

#ifndef MPROC_BACKENDS_POSIX_POSIX_RANDOM_H_
#define MPROC_BACKENDS_POSIX_POSIX_RANDOM_H_

#include "absl/status/status.h"
#include "gsl/span"

namespace mproc::posix {

// Fills `out` with secure random bytes. `nonblocking`: where the source
// would wait for the kernel's entropy pool (early boot), fail with
// `kUnavailable` instead. Errors: the OS's, saying which call failed.
[[nodiscard]] absl::Status FillSecureRandom(gsl::span<char> out,
                                            bool nonblocking = false);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_POSIX_RANDOM_H_
