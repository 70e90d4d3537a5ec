// POSIX only: stream socket reads and writes (stream_io.h).
#include "backends/posix/stream_io.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "api/fork_safety.h"
#include "backends/posix/poll_timeout.h"
#include "backends/posix/posix_errors.h"

namespace mproc::posix {

absl::Status SendAll(int fd, absl::string_view bytes, absl::string_view what) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE || errno == ECONNRESET) {
        return absl::UnavailableError(
            absl::StrCat("send: the peer closed ", what));
      }
      return ErrnoStatus(errno, "send", absl::StrCat(what, " is unusable"));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> RecvSomeUntil(int fd, gsl::span<char> buffer,
                                     absl::Time deadline,
                                     absl::string_view what) {
  if (buffer.empty()) {
    return absl::InvalidArgumentError("ReadSome needs a non-empty buffer");
  }
  while (true) {
    if (deadline != absl::InfiniteFuture()) {
      pollfd readable{.fd = fd, .events = POLLIN, .revents = 0};
      const int polled = poll(&readable, 1, PollTimeout(deadline));
      if (polled < 0 && errno != EINTR) {
        return ErrnoStatus(errno, "poll", absl::StrCat(what, " is unusable"));
      }
      if (polled == 0 && ForkSafeNow() >= deadline) {
        return absl::DeadlineExceededError("nothing to read by the deadline");
      }
      if (polled <= 0) continue;
    }
    const ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) {
      return absl::UnavailableError(
          absl::StrCat("recv: the peer reset ", what));
    }
    return ErrnoStatus(errno, "recv", absl::StrCat(what, " is unusable"));
  }
}

}  // namespace mproc::posix
