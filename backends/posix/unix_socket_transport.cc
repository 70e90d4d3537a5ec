// POSIX only: Manager listeners and channels over Unix-domain sockets.
#include "backends/posix/unix_socket_transport.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/fork_safety.h"
#include "backends/posix/cloexec.h"
#include "backends/posix/peer_credentials.h"
#include "backends/posix/poll_timeout.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/socket_address.h"
#include "backends/posix/stream_io.h"

namespace mproc::posix {
namespace {

constexpr absl::string_view kAddressPrefix = "unix:";

std::atomic<int> filesystem_sockets_for_testing{0};

// True where listeners get an abstract address (Linux): no file to make,
// remove or leave behind, and nothing for another user to replace.
bool UseAbstractAddresses() {
  return MPROC_POSIX_HAVE_ABSTRACT_SOCKETS &&
         filesystem_sockets_for_testing.load(std::memory_order_acquire) == 0;
}

// OK when the peer of connected socket `fd` runs as this process's user, or
// when the OS cannot tell (peer_credentials.h: then the private socket
// directory and the authkey handshake are the guard).
absl::Status CheckPeerUser(int fd) {
  absl::StatusOr<PeerCredentials> peer = GetPeerCredentials(fd);
  if (absl::IsUnimplemented(peer.status())) return absl::OkStatus();
  if (!peer.ok()) return peer.status();
  if (peer->uid != geteuid()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the peer",
        peer->pid.has_value() ? absl::StrCat(" (pid ", *peer->pid, ")") : "",
        " runs as uid ", peer->uid, ", not ", geteuid(),
        "; mproc talks to its own user only"));
  }
  return absl::OkStatus();
}

// Writes `text` to stderr in one write (no stdio lock: safe in any thread).
void LogLine(const std::string& text) {
  (void)RetryOnEintr(
      [&] { return write(STDERR_FILENO, text.data(), text.size()); });
}

// UnixChannel
//
// One connected socket. Close shuts it down (waking a reader blocked in this
// process) only in the process that owns it; the destructor closes it.
class UnixChannel final : public Channel {
 public:
  explicit UnixChannel(Fd fd) : fd_(std::move(fd)) {}

  absl::Status WriteAll(absl::string_view bytes) override {
    if (closed_.load(std::memory_order_acquire)) {
      return absl::FailedPreconditionError("write on a closed channel");
    }
    return SendAll(fd_.get(), bytes, "the connection");
  }

  // After Close the socket is shut down, so a read returns 0 at once.
  absl::StatusOr<size_t> ReadSomeUntil(gsl::span<char> buffer,
                                       absl::Time deadline) override {
    absl::StatusOr<size_t> n =
        RecvSomeUntil(fd_.get(), buffer, deadline, "the connection");
    if (!n.ok() && !absl::IsDeadlineExceeded(n.status()) &&
        closed_.load(std::memory_order_acquire)) {
      return size_t{0};
    }
    return n;
  }

  void Close() override {
    if (closed_.exchange(true, std::memory_order_acq_rel)) return;
    // Never in a forked child's copy: that would cut its parent's connection.
    if (fd_.owned_here()) (void)shutdown(fd_.get(), SHUT_RDWR);
  }

 private:
  Fd fd_;
  std::atomic<bool> closed_{false};
};

}  // namespace

UnixListener::UnixListener(std::string address, Fd fd,
                           std::shared_ptr<SocketDirectory> directory)
    : address_(std::move(address)),
      fd_(std::move(fd)),
      directory_(std::move(directory)) {}

void UnixListener::OpenReserve() {
  if (reserve_.valid()) return;
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) reserve_ = Fd(fd);
}

absl::StatusOr<std::unique_ptr<Channel>> UnixListener::Accept() {
  OpenReserve();  // in the serving process, before the table can fill up
  while (true) {
    if (closed_.load(std::memory_order_acquire)) {
      return absl::CancelledError("the listener is closed");
    }
    pollfd ready{.fd = fd_.get(), .events = POLLIN, .revents = 0};
    if (poll(&ready, 1, -1) < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "poll", "the Manager cannot accept clients");
    }
    if (closed_.load(std::memory_order_acquire)) {
      return absl::CancelledError("the listener is closed");
    }
    // Non-blocking (the listening socket is), so it may run inside Open.
    Fd connection = Fd::Open([&] { return AcceptCloexec(fd_.get()); });
    if (!connection.valid()) {
      // The client may have gone between poll and accept.
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR ||
          error == ECONNABORTED || error == EPROTO) {
        continue;
      }
      if ((error == EMFILE || error == ENFILE) && reserve_.valid()) {
        // The pending client would keep poll ready for ever: take it with
        // the reserved descriptor and hang up on it, so its client sees
        // its connection closed instead of waiting.
        reserve_.Reset();
        const int refused = AcceptCloexec(fd_.get());
        if (refused >= 0) CloseDescriptor(refused);
        OpenReserve();
      }
      return ErrnoStatus(error, "accept",
                         "a Manager client was refused; raise the descriptor "
                         "limit (ulimit -n) or end processes that use the "
                         "Manager");
    }
    if (absl::Status peer = CheckPeerUser(connection.get()); !peer.ok()) {
      LogLine(absl::StrCat("mproc: refused a Manager client at ", address_,
                           ": ", peer.message(), "\n"));
      continue;
    }
    return std::make_unique<UnixChannel>(std::move(connection));
  }
}

void UnixListener::Close() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  // Refuses new clients and wakes Accept (poll reports POLLHUP).
  if (fd_.owned_here() && !handed_over_.load(std::memory_order_acquire)) {
    (void)shutdown(fd_.get(), SHUT_RDWR);
  }
}

namespace {

// A new listening socket (not bound yet).
absl::StatusOr<Fd> NewListeningSocket() {
  Fd fd = Fd::Open([] {
    return SocketCloexec(AF_UNIX, SOCK_STREAM, /*non_blocking=*/true);
  });
  if (!fd.valid()) {
    return ErrnoStatus(errno, "socket(AF_UNIX)",
                       "raise the descriptor limit (ulimit -n) or close "
                       "descriptors");
  }
  return fd;
}

// A listener at a fresh random abstract address "@mproc-<22 characters>"
// (about 131 random bits, so no one can guess it; the peer checks and the
// handshake hold anyway).
absl::StatusOr<std::unique_ptr<Listener>> ListenAbstract() {
  absl::StatusOr<Fd> fd = NewListeningSocket();
  if (!fd.ok()) return fd.status();
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string path = absl::StrCat("@", RandomSocketName(22));
    sockaddr_un address;
    const socklen_t length = MakeUnixAddress(path, address);
    if (bind(fd->get(), reinterpret_cast<const sockaddr*>(&address), length) !=
        0) {
      if (errno == EADDRINUSE) continue;
      return ErrnoStatus(errno, "bind(AF_UNIX, abstract)",
                         "cannot make a Manager address");
    }
    if (listen(fd->get(), SOMAXCONN) != 0) {
      return ErrnoStatus(errno, "listen", "cannot listen for Manager clients");
    }
    return std::make_unique<UnixListener>(absl::StrCat(kAddressPrefix, path),
                                          *std::move(fd), nullptr);
  }
  return absl::AlreadyExistsError(
      "no free abstract socket address after 100 attempts");
}

}  // namespace

ScopedFilesystemSocketsForTesting::ScopedFilesystemSocketsForTesting() {
  filesystem_sockets_for_testing.fetch_add(1, std::memory_order_acq_rel);
}

ScopedFilesystemSocketsForTesting::~ScopedFilesystemSocketsForTesting() {
  filesystem_sockets_for_testing.fetch_sub(1, std::memory_order_acq_rel);
}

absl::StatusOr<std::unique_ptr<Listener>> ListenUnix() {
  if (UseAbstractAddresses()) return ListenAbstract();
  absl::StatusOr<std::shared_ptr<SocketDirectory>> directory =
      MakeSocketDirectory();
  if (!directory.ok()) return directory.status();
  const std::string& path = (*directory)->socket_path();
  sockaddr_un address;
  const socklen_t length = MakeUnixAddress(path, address);
  if (length == 0) {
    return absl::InternalError(absl::StrCat("socket path too long: ", path));
  }
  absl::StatusOr<Fd> fd = NewListeningSocket();
  if (!fd.ok()) return fd.status();
  if (bind(fd->get(), reinterpret_cast<const sockaddr*>(&address), length) !=
      0) {
    return ErrnoStatus(errno, absl::StrCat("bind(", path, ")"),
                       "make $TMPDIR (or /tmp) writable");
  }
  if (listen(fd->get(), SOMAXCONN) != 0) {
    return ErrnoStatus(errno, "listen", "cannot listen for Manager clients");
  }
  return std::make_unique<UnixListener>(absl::StrCat(kAddressPrefix, path),
                                        *std::move(fd), *std::move(directory));
}

std::unique_ptr<Listener> AdoptUnixListener(int fd, std::string address) {
  return std::make_unique<UnixListener>(std::move(address), Fd(fd), nullptr);
}

absl::StatusOr<std::unique_ptr<Channel>> ConnectUnix(
    absl::string_view address) {
  absl::string_view path = address;
  if (absl::StartsWith(path, kAddressPrefix)) {
    path.remove_prefix(kAddressPrefix.size());
  }
  sockaddr_un target;
  const socklen_t length = MakeUnixAddress(path, target);
  if (length == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", address, "' is not a Unix socket address"));
  }
  Fd fd = Fd::Open([] { return SocketCloexec(AF_UNIX, SOCK_STREAM); });
  if (!fd.valid()) {
    return ErrnoStatus(errno, "socket(AF_UNIX)",
                       "raise the descriptor limit (ulimit -n) or close "
                       "descriptors");
  }
  // An interrupted AF_UNIX connect leaves the socket unconnected: retry it
  // (EISCONN: the interrupted attempt had completed after all).
  while (connect(fd.get(), reinterpret_cast<const sockaddr*>(&target),
                 length) != 0 &&
         errno != EISCONN) {
    const int error = errno;
    if (error == EINTR) continue;
    if (error == ENOENT || error == ECONNREFUSED) {
      return absl::UnavailableError(absl::StrCat(
          "nothing listens at ", address, " (", std::strerror(error), ")"));
    }
    return ErrnoStatus(error, absl::StrCat("connect(", path, ")"),
                       "check that the Manager is running");
  }
  if (absl::Status peer = CheckPeerUser(fd.get()); !peer.ok()) return peer;
  return std::make_unique<UnixChannel>(std::move(fd));
}

}  // namespace mproc::posix
