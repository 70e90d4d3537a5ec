// POSIX only: Manager listeners and channels over Unix-domain sockets.
#include "backends/posix/unix_socket_transport.h"

#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/posix/posix_errors.h"
#include "gsl/util"

namespace mproc::posix {

class SocketDirectory {
 public:
  SocketDirectory(std::string directory, std::string socket_path)
      : directory_(std::move(directory)),
        socket_path_(std::move(socket_path)),
        creator_(getpid()) {}
  SocketDirectory(const SocketDirectory&) = delete;
  SocketDirectory& operator=(const SocketDirectory&) = delete;
  ~SocketDirectory() {
    if (getpid() != creator_) return;
    (void)unlink(socket_path_.c_str());  // absent when bind failed
    (void)rmdir(directory_.c_str());
  }

  const std::string& socket_path() const { return socket_path_; }

 private:
  const std::string directory_;
  const std::string socket_path_;
  const pid_t creator_;
};

namespace {

constexpr absl::string_view kAddressPrefix = "unix:";
constexpr absl::string_view kSocketName = "/manager.sock";

// Fills `out` with `path`; false when it does not fit.
bool MakeAddress(absl::string_view path, sockaddr_un& out) {
  std::memset(&out, 0, sizeof(out));
  out.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(out.sun_path)) return false;
  std::memcpy(out.sun_path, path.data(), path.size());
  return true;
}

// OK when the peer of connected socket `fd` runs as this process's user.
absl::Status CheckPeerUser(int fd) {
  ucred peer{};
  socklen_t size = sizeof(peer);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) {
    return ErrnoStatus(errno, "getsockopt(SO_PEERCRED)",
                       "cannot tell who is at the other end of the socket");
  }
  if (peer.uid != geteuid()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the peer (pid ", peer.pid, ") runs as uid ", peer.uid, ", not ",
        geteuid(), "; mproc talks to its own user only"));
  }
  return absl::OkStatus();
}

// Writes `text` to stderr in one write (no stdio lock: safe in any thread).
void LogLine(const std::string& text) {
  (void)RetryOnEintr(
      [&] { return write(STDERR_FILENO, text.data(), text.size()); });
}

// A socket directory this old whose socket refuses connections is stale; a
// younger one may be between its bind and its listen.
constexpr std::time_t kStaleAfterSeconds = 60;

// True when nothing listens on the socket at `path` (ECONNREFUSED).
bool RefusesConnections(const std::string& path) {
  sockaddr_un address;
  if (!MakeAddress(path, address)) return false;
  Fd fd = Fd::Open([] {
    return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  });
  if (!fd.valid()) return false;
  const int connected = RetryOnEintr([&] {
    return connect(fd.get(), reinterpret_cast<const sockaddr*>(&address),
                   sizeof(address));
  });
  return connected != 0 && errno == ECONNREFUSED;
}

// Removes this user's socket directories under `base` whose creator died
// before it could remove them (a SIGKILLed Manager owner): the socket file is
// there, older than kStaleAfterSeconds, and refuses connections. rmdir only
// removes an empty directory, so nothing else is ever deleted.
void RemoveStaleSocketDirectories(const std::string& base) {
  DIR* listing = opendir(base.c_str());
  if (listing == nullptr) return;
  const auto close_listing = gsl::finally([listing] { closedir(listing); });
  const std::time_t now = std::time(nullptr);
  while (const dirent* entry = readdir(listing)) {
    if (!absl::StartsWith(entry->d_name, "mproc-")) continue;
    const std::string directory = absl::StrCat(base, "/", entry->d_name);
    const std::string socket_path = absl::StrCat(directory, kSocketName);
    struct stat info;
    if (lstat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) ||
        info.st_uid != geteuid()) {
      continue;
    }
    if (lstat(socket_path.c_str(), &info) != 0 || !S_ISSOCK(info.st_mode) ||
        now - info.st_mtime < kStaleAfterSeconds ||
        !RefusesConnections(socket_path)) {
      continue;
    }
    (void)unlink(socket_path.c_str());
    (void)rmdir(directory.c_str());
  }
}

absl::StatusOr<std::shared_ptr<SocketDirectory>> MakeSocketDirectory() {
  std::vector<std::string> bases;
  if (const char* tmpdir = std::getenv("TMPDIR");
      tmpdir != nullptr && tmpdir[0] == '/') {
    bases.emplace_back(tmpdir);
  }
  bases.emplace_back("/tmp");
  absl::Status last = absl::InvalidArgumentError(
      "$TMPDIR and /tmp are too long for a Unix socket path; set TMPDIR to a "
      "short directory");
  for (std::string& base : bases) {
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    std::string pattern = absl::StrCat(base, "/mproc-XXXXXX");
    if (pattern.size() + kSocketName.size() >= sizeof(sockaddr_un::sun_path)) {
      continue;
    }
    RemoveStaleSocketDirectories(base);
    if (mkdtemp(pattern.data()) == nullptr) {  // creates it with mode 0700
      last = ErrnoStatus(errno, absl::StrCat("mkdtemp(", pattern, ")"),
                         "make $TMPDIR (or /tmp) writable, or free space");
      continue;
    }
    std::string socket_path = absl::StrCat(pattern, kSocketName);
    return std::make_shared<SocketDirectory>(std::move(pattern),
                                             std::move(socket_path));
  }
  return last;
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
    while (!bytes.empty()) {
      const ssize_t n =
          send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EPIPE || errno == ECONNRESET) {
          return absl::UnavailableError("send: the peer closed the connection");
        }
        return ErrnoStatus(errno, "send", "the connection is unusable");
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> ReadSome(gsl::span<char> buffer) override {
    if (buffer.empty()) {
      return absl::InvalidArgumentError("ReadSome needs a non-empty buffer");
    }
    while (true) {
      // After Close the socket is shut down, so recv returns 0 at once.
      const ssize_t n = recv(fd_.get(), buffer.data(), buffer.size(), 0);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      if (closed_.load(std::memory_order_acquire)) return size_t{0};
      if (errno == ECONNRESET) {
        return absl::UnavailableError("recv: the peer reset the connection");
      }
      return ErrnoStatus(errno, "recv", "the connection is unusable");
    }
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

absl::StatusOr<std::unique_ptr<Channel>> UnixListener::Accept() {
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
    Fd connection = Fd::Open(
        [&] { return accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC); });
    if (!connection.valid()) {
      // The client may have gone between poll and accept.
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
          errno == ECONNABORTED || errno == EPROTO) {
        continue;
      }
      return ErrnoStatus(errno, "accept4",
                         "raise the descriptor limit (ulimit -n) or close "
                         "connections");
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

absl::StatusOr<std::unique_ptr<Listener>> ListenUnix() {
  absl::StatusOr<std::shared_ptr<SocketDirectory>> directory =
      MakeSocketDirectory();
  if (!directory.ok()) return directory.status();
  const std::string& path = (*directory)->socket_path();
  sockaddr_un address;
  if (!MakeAddress(path, address)) {
    return absl::InternalError(absl::StrCat("socket path too long: ", path));
  }
  Fd fd = Fd::Open([] {
    return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  });
  if (!fd.valid()) {
    return ErrnoStatus(errno, "socket(AF_UNIX)",
                       "raise the descriptor limit (ulimit -n) or close "
                       "descriptors");
  }
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address),
           sizeof(address)) != 0) {
    return ErrnoStatus(errno, absl::StrCat("bind(", path, ")"),
                       "make $TMPDIR (or /tmp) writable");
  }
  if (listen(fd.get(), SOMAXCONN) != 0) {
    return ErrnoStatus(errno, "listen", "cannot listen for Manager clients");
  }
  return std::make_unique<UnixListener>(absl::StrCat(kAddressPrefix, path),
                                        std::move(fd), *std::move(directory));
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
  if (!MakeAddress(path, target)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", address, "' is not a Unix socket address"));
  }
  Fd fd =
      Fd::Open([] { return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); });
  if (!fd.valid()) {
    return ErrnoStatus(errno, "socket(AF_UNIX)",
                       "raise the descriptor limit (ulimit -n) or close "
                       "descriptors");
  }
  // An interrupted AF_UNIX connect leaves the socket unconnected: retry it
  // (EISCONN: the interrupted attempt had completed after all).
  while (connect(fd.get(), reinterpret_cast<const sockaddr*>(&target),
                 sizeof(target)) != 0 &&
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
