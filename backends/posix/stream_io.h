// POSIX only: whole writes and deadline-bounded reads on a connected stream
// socket, for the Manager transport (unix_socket_transport.cc) and channel
// ends (posix_channel.cc).
#ifndef MPROC_BACKENDS_POSIX_STREAM_IO_H_
#define MPROC_BACKENDS_POSIX_STREAM_IO_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gsl/span"

namespace mproc::posix {

// Sends all of `bytes` on the stream socket `fd`, waiting while it is full.
// A peer that has gone is `kUnavailable` ("send: the peer closed <what>"),
// never SIGPIPE (MSG_NOSIGNAL); other errors are the OS's, saying that
// `what` is unusable.
[[nodiscard]] absl::Status SendAll(int fd, absl::string_view bytes,
                                   absl::string_view what);

// Reads at least one byte of the stream socket `fd` into `buffer` (not
// empty); 0 at end-of-stream. Waits until `deadline` (InfiniteFuture: for
// ever, InfinitePast: not at all), then `kDeadlineExceeded` having read
// nothing. A peer that reset the stream (it closed with bytes of ours unread)
// is `kUnavailable`; other errors are the OS's, saying that `what` is
// unusable. Reads the clock with ForkSafeNow: a forked child may call it.
[[nodiscard]] absl::StatusOr<size_t> RecvSomeUntil(int fd,
                                                   gsl::span<char> buffer,
                                                   absl::Time deadline,
                                                   absl::string_view what);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_STREAM_IO_H_
