// -----------------------------------------------------------------------------
// File: backends/posix/posix_errors.h
// -----------------------------------------------------------------------------
//
// POSIX only: turning errno into absl::Status at the edge of the backend.

#ifndef MPROC_BACKENDS_POSIX_POSIX_ERRORS_H_
#define MPROC_BACKENDS_POSIX_POSIX_ERRORS_H_

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mproc::posix {

// The status for a failed system call: the code absl::ErrnoToStatus gives
// `error` (EAGAIN -> kUnavailable, EMFILE -> kResourceExhausted, ...), and a
// message "<call>: <strerror>; <what_to_do>".
[[nodiscard]] absl::Status ErrnoStatus(int error, absl::string_view call,
                                       absl::string_view what_to_do);

// What to do when starting a child process (fork, posix_spawn and its
// setup) fails with `error`, naming the real cause: EAGAIN -> the process
// limit, ENOMEM -> memory, EMFILE/ENFILE -> descriptors, EBADF -> a
// descriptor closed under mproc, ENOENT/EACCES/ENOEXEC -> the program file.
absl::string_view ProcessStartAdvice(int error);

// Retries `call()` while it fails with EINTR; returns its last result.
template <typename Call>
auto RetryOnEintr(Call call) {
  auto result = call();
  while (result == -1 && errno == EINTR) result = call();
  return result;
}

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_POSIX_ERRORS_H_
