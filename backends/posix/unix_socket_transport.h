// -----------------------------------------------------------------------------
// File: backends/posix/unix_socket_transport.h
// -----------------------------------------------------------------------------
//
// POSIX only: the Manager transport over Unix-domain stream sockets. On
// Linux a listener has a random address in the abstract namespace,
// "unix:@mproc-<22 random characters>": no file is made, so none can be
// left behind or replaced, and making one costs no filesystem work. Elsewhere
// (and under ScopedFilesystemSocketsForTesting) a listener lives in a fresh
// private (0700) directory under $TMPDIR or /tmp
// (refused when that base is unsafe: owned by another user than us or root,
// or world-writable without the sticky bit); its address is
// "unix:<socket path>". The directory is made and removed through
// descriptors (mkdirat/unlinkat), never by path. Both ends check that the peer
// runs as the same user (SO_PEERCRED). A directory left behind by a creator
// that was killed is removed by the next Listen of the same user (once its
// socket is a minute old and refuses connections).

#ifndef MPROC_BACKENDS_POSIX_UNIX_SOCKET_TRANSPORT_H_
#define MPROC_BACKENDS_POSIX_UNIX_SOCKET_TRANSPORT_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/backend.h"
#include "backends/posix/posix_fd.h"
#include "backends/posix/socket_directory.h"

namespace mproc::posix {

// UnixListener
//
// A listening socket. `Close` shuts the socket down (new clients are refused,
// a blocked Accept returns kCancelled) in the process that serves on it. In
// the process that handed it to a server child (MarkHandedOver), and in a
// forked copy that did not adopt it, `Close` only marks it closed: the socket
// is shared with the server, and shutting it down would stop that server.
// The destructor only closes the descriptor, for the same reason.
class UnixListener final : public Listener {
 public:
  // Takes `fd`, a listening socket at `address`. `directory` is null in a
  // process that did not create the socket.
  UnixListener(std::string address, Fd fd,
               std::shared_ptr<SocketDirectory> directory);
  ~UnixListener() override = default;

  std::string address() const override { return address_; }
  // Waits for the next client of the same user (others are refused with a
  // line on stderr). `kCancelled` once Close has been called;
  // `kResourceExhausted` when no descriptor is left for the connection
  // (EMFILE, ENFILE, ENOMEM, ENOBUFS): then the pending client, accepted into
  // a descriptor kept in reserve, has been hung up on, so a caller that
  // retries does not spin on it.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Channel>> Accept() override;
  void Close() override;

  // The listening descriptor.
  int fd() const { return fd_.get(); }
  // Shares ownership of the socket's directory, so it outlives this object
  // (kept by the Child of the server that serves on it, until it is reaped).
  std::shared_ptr<SocketDirectory> directory() const { return directory_; }
  // In a forked child that serves on this listener: makes the descriptor
  // this process's own (the caller keeps it open across
  // CloseInheritedDescriptors).
  void AdoptInForkedChild() { fd_.Adopt(); }
  // In the parent, once a server child has the socket: from now on Close
  // leaves the shared socket alone.
  void MarkHandedOver() { handed_over_.store(true, std::memory_order_release); }

 private:
  const std::string address_;
  Fd fd_;
  // Opens the reserve descriptor (/dev/null) if it is not open.
  void OpenReserve();

  const std::shared_ptr<SocketDirectory> directory_;
  // Kept open in the serving process, closed for a moment at EMFILE.
  Fd reserve_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> handed_over_{false};
};

// Creates a listening socket at an abstract address, or (see above) in a
// private directory. Errors: `kFailedPrecondition` when $TMPDIR (or /tmp) is
// unsafe (see above); those of open, mkdirat, socket, bind and listen
// (EMFILE -> kResourceExhausted, ...). On error nothing is left behind.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Listener>> ListenUnix();

// Rebuilds a listener from an inherited listening descriptor `fd` (in a
// re-executed Manager server). The directory stays its creator's to remove.
[[nodiscard]] std::unique_ptr<Listener> AdoptUnixListener(int fd,
                                                          std::string address);

// Test-only: while one is alive, ListenUnix makes socket directories on
// every OS (the portable path), so Linux tests can check them.
class ScopedFilesystemSocketsForTesting {
 public:
  ScopedFilesystemSocketsForTesting();
  ~ScopedFilesystemSocketsForTesting();
  ScopedFilesystemSocketsForTesting(const ScopedFilesystemSocketsForTesting&) =
      delete;
  ScopedFilesystemSocketsForTesting& operator=(
      const ScopedFilesystemSocketsForTesting&) = delete;
};

// Connects to `address` ("unix:<path>", "unix:@<abstract name>" or a bare
// path). `kUnavailable` when
// nothing listens there, `kPermissionDenied` when the listener belongs to
// another user, `kInvalidArgument` for a path too long for a socket address.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Channel>> ConnectUnix(
    absl::string_view address);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_UNIX_SOCKET_TRANSPORT_H_
