// -----------------------------------------------------------------------------
// File: backends/posix/posix_channel.h
// -----------------------------------------------------------------------------
//
// POSIX only: the message-passing facilities of api/backend.h. A channel
// pair is socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC); each end is one
// registered descriptor (posix_fd.h), handed to a child as the shared-state
// objects are (posix_shared.h: fork keeps it, spawn and forkserver put it on
// a numbered descriptor). Writes use MSG_NOSIGNAL, so a peer that has gone is
// EPIPE (kUnavailable), never SIGPIPE. WaitReady is one poll() over the ends
// and the children's end descriptors (pidfds, or the fork server's status
// channels).

#ifndef MPROC_BACKENDS_POSIX_POSIX_CHANNEL_H_
#define MPROC_BACKENDS_POSIX_POSIX_CHANNEL_H_

#include <array>
#include <memory>

#include "absl/status/statusor.h"
#include "api/backend.h"
#include "gsl/span"

namespace mproc::posix {

// A new connected pair (api/backend.h ChannelPair). Errors: socketpair's
// (EMFILE, ENFILE -> kResourceExhausted).
[[nodiscard]] absl::StatusOr<std::array<std::shared_ptr<ChannelEnd>, 2>>
CreatePosixChannelPair();

// In a spawned child: the end on inherited descriptor `fd` (which it then
// owns). `kInvalidArgument` when `fd` is not a socket.
[[nodiscard]] absl::StatusOr<std::shared_ptr<ChannelEnd>> AdoptPosixChannelEnd(
    int fd);

// api/backend.h WaitReady. `children` must come from this backend's Launch.
[[nodiscard]] absl::StatusOr<Backend::Ready> PosixWaitReady(
    gsl::span<ChannelEnd* const> ends, gsl::span<Child* const> children,
    absl::Time deadline);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_POSIX_CHANNEL_H_
