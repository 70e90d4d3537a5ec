// POSIX only: Manager listeners and channels over Unix-domain sockets.
#include "backends/posix/unix_socket_transport.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/fork_safety.h"
#include "backends/posix/poll_timeout.h"
#include "backends/posix/posix_errors.h"
#include "gsl/util"

namespace mproc::posix {

constexpr char kSocketFile[] = "manager.sock";

// Owns the directory through descriptors: its parent's (`base`) and its own,
// so removal never follows a path that may have changed since.
class SocketDirectory {
 public:
  SocketDirectory(Fd base, std::string name, Fd directory,
                  std::string socket_path)
      : base_(std::move(base)),
        name_(std::move(name)),
        directory_(std::move(directory)),
        socket_path_(std::move(socket_path)),
        creator_(getpid()) {}
  SocketDirectory(const SocketDirectory&) = delete;
  SocketDirectory& operator=(const SocketDirectory&) = delete;
  ~SocketDirectory() {
    if (getpid() != creator_) return;
    (void)unlinkat(directory_.get(), kSocketFile, 0);  // absent if bind failed
    (void)unlinkat(base_.get(), name_.c_str(), AT_REMOVEDIR);
  }

  const std::string& socket_path() const { return socket_path_; }

 private:
  const Fd base_;
  const std::string name_;
  const Fd directory_;
  const std::string socket_path_;
  const pid_t creator_;
};

namespace {

constexpr absl::string_view kAddressPrefix = "unix:";

// Fills `out` with `path` (a file, or "@name" in Linux's abstract
// namespace) and returns the address's length; 0 when it does not fit.
socklen_t MakeAddress(absl::string_view path, sockaddr_un& out) {
  std::memset(&out, 0, sizeof(out));
  out.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(out.sun_path)) return 0;
  std::memcpy(out.sun_path, path.data(), path.size());
  if (path[0] != '@') return sizeof(out);
  // An abstract name is exactly its bytes after a leading NUL.
  out.sun_path[0] = '\0';
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
}

std::atomic<int> filesystem_sockets_for_testing{0};

// True where listeners get an abstract address (Linux): no file to make,
// remove or leave behind, and nothing for another user to replace.
bool UseAbstractAddresses() {
#ifdef __linux__
  return filesystem_sockets_for_testing.load(std::memory_order_acquire) == 0;
#else
  return false;
#endif
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
  const socklen_t length = MakeAddress(path, address);
  if (length == 0) return false;
  Fd fd = Fd::Open([] {
    return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  });
  if (!fd.valid()) return false;
  const int connected = RetryOnEintr([&] {
    return connect(fd.get(), reinterpret_cast<const sockaddr*>(&address),
                   length);
  });
  return connected != 0 && errno == ECONNREFUSED;
}

// Removes this user's socket directories in `base` (open as `base_fd`)
// whose creator died before it could remove them (a SIGKILLed Manager
// owner): the socket file is there, older than kStaleAfterSeconds, and
// refuses connections. Works through descriptors; removing a directory only
// removes an empty one, so nothing else is ever deleted.
void RemoveStaleSocketDirectories(int base_fd, const std::string& base) {
  const int listing_fd =
      openat(base_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing_fd < 0) return;
  DIR* listing = fdopendir(listing_fd);
  if (listing == nullptr) {
    CloseDescriptor(listing_fd);
    return;
  }
  const auto close_listing = gsl::finally([listing] { closedir(listing); });
  const std::time_t now = std::time(nullptr);
  while (const dirent* entry = readdir(listing)) {
    if (!absl::StartsWith(entry->d_name, "mproc-")) continue;
    struct stat info;
    if (fstatat(base_fd, entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISDIR(info.st_mode) || info.st_uid != geteuid()) {
      continue;
    }
    const int opened = openat(base_fd, entry->d_name,
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (opened < 0) continue;
    const Fd directory(opened);
    if (fstatat(directory.get(), kSocketFile, &info, AT_SYMLINK_NOFOLLOW) !=
            0 ||
        !S_ISSOCK(info.st_mode) || now - info.st_mtime < kStaleAfterSeconds ||
        !RefusesConnections(
            absl::StrCat(base, "/", entry->d_name, "/", kSocketFile))) {
      continue;
    }
    (void)unlinkat(directory.get(), kSocketFile, 0);
    (void)unlinkat(base_fd, entry->d_name, AT_REMOVEDIR);
  }
}

// OK when `base` (described by `info`) is a directory no other user can
// tamper with: owned by us or root, and sticky if world-writable.
absl::Status CheckBaseIsSafe(const std::string& base, const struct stat& info,
                             bool from_tmpdir) {
  const std::string what = from_tmpdir
                               ? absl::StrCat("$TMPDIR (", base, ")")
                               : absl::StrCat(base, " (no $TMPDIR set)");
  if (!S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " is not a directory; set TMPDIR to a directory of yours"));
  }
  if (info.st_uid != geteuid() && info.st_uid != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " belongs to uid ", info.st_uid, ", neither this user (uid ",
        geteuid(),
        ") nor root, who could replace the Manager's socket directory; set "
        "TMPDIR to a directory of yours (mkdir -m 700 ~/tmp)"));
  }
  if ((info.st_mode & S_IWOTH) != 0 && (info.st_mode & S_ISVTX) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        what,
        " is world-writable without the sticky bit, so any user could remove "
        "or replace the Manager's socket directory; set the sticky bit "
        "(chmod +t, as /tmp has) or set TMPDIR to a private directory"));
  }
  return absl::OkStatus();
}

// A fresh name "mproc-" + `length` random letters and digits.
std::string RandomName(size_t length) {
  static constexpr char kChars[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::vector<unsigned char> bytes(length);
  if (getrandom(bytes.data(), bytes.size(), GRND_NONBLOCK) !=
      static_cast<ssize_t>(bytes.size())) {
    // No entropy yet: still unique enough, as mkdirat and bind refuse a
    // taken name.
    const uint64_t mixed =
        static_cast<uint64_t>(getpid()) * 0x9e3779b97f4a7c15u ^
        static_cast<uint64_t>(std::time(nullptr)) ^
        static_cast<uint64_t>(absl::ToUnixNanos(ForkSafeNow()));
    for (size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] ^= static_cast<unsigned char>(mixed >> (8 * (i % 8)));
    }
  }
  std::string name = "mproc-";
  for (unsigned char byte : bytes) name += kChars[byte % (sizeof(kChars) - 1)];
  return name;
}

absl::StatusOr<std::shared_ptr<SocketDirectory>> MakeSocketDirectory() {
  std::string base = "/tmp";
  bool from_tmpdir = false;
  if (const char* tmpdir = std::getenv("TMPDIR");
      tmpdir != nullptr && tmpdir[0] == '/') {
    base = tmpdir;
    from_tmpdir = true;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    // "<base>/mproc-XXXXXX/manager.sock" must fit a socket address (with
    // its NUL): else /tmp.
    if (base.size() + std::strlen("/mproc-XXXXXX/") +
            std::strlen(kSocketFile) >=
        sizeof(sockaddr_un::sun_path)) {
      base = "/tmp";
      from_tmpdir = false;
    }
  }
  const int opened = open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (opened < 0) {
    return ErrnoStatus(errno, absl::StrCat("open(", base, ")"),
                       "set TMPDIR to an existing directory of yours");
  }
  Fd base_fd(opened);
  struct stat info;
  if (fstat(base_fd.get(), &info) != 0) {
    return ErrnoStatus(errno, absl::StrCat("fstat(", base, ")"), "");
  }
  if (absl::Status safe = CheckBaseIsSafe(base, info, from_tmpdir);
      !safe.ok()) {
    return safe;
  }
  RemoveStaleSocketDirectories(base_fd.get(), base);
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name = RandomName(6);
    if (mkdirat(base_fd.get(), name.c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;
      return ErrnoStatus(errno, absl::StrCat("mkdir(", base, "/", name, ")"),
                         "make $TMPDIR (or /tmp) writable, or free space");
    }
    const int directory =
        openat(base_fd.get(), name.c_str(),
               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (directory < 0) {
      const int error = errno;
      (void)unlinkat(base_fd.get(), name.c_str(), AT_REMOVEDIR);
      return ErrnoStatus(error, absl::StrCat("open(", base, "/", name, ")"),
                         "raise the descriptor limit (ulimit -n) or close "
                         "descriptors");
    }
    std::string socket_path = absl::StrCat(base, "/", name, "/", kSocketFile);
    return std::make_shared<SocketDirectory>(std::move(base_fd),
                                             std::move(name), Fd(directory),
                                             std::move(socket_path));
  }
  return absl::AlreadyExistsError(
      absl::StrCat("no free directory name in ", base,
                   " after 100 attempts; clean up ", base, "/mproc-*"));
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

  absl::StatusOr<size_t> ReadSomeUntil(gsl::span<char> buffer,
                                       absl::Time deadline) override {
    if (buffer.empty()) {
      return absl::InvalidArgumentError("ReadSome needs a non-empty buffer");
    }
    while (true) {
      if (deadline != absl::InfiniteFuture()) {
        // After Close the socket is shut down, so poll reports it at once.
        pollfd readable{.fd = fd_.get(), .events = POLLIN, .revents = 0};
        const int polled = poll(&readable, 1, PollTimeout(deadline));
        if (polled < 0 && errno != EINTR) {
          return ErrnoStatus(errno, "poll", "the connection is unusable");
        }
        if (polled == 0 && ForkSafeNow() >= deadline) {
          return absl::DeadlineExceededError("nothing to read by the deadline");
        }
        if (polled <= 0) continue;
      }
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
    Fd connection = Fd::Open(
        [&] { return accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC); });
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
        const int refused = accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (refused >= 0) CloseDescriptor(refused);
        OpenReserve();
      }
      return ErrnoStatus(error, "accept4",
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
    return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
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
    const std::string path = absl::StrCat("@", RandomName(22));
    sockaddr_un address;
    const socklen_t length = MakeAddress(path, address);
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
  const socklen_t length = MakeAddress(path, address);
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
  const socklen_t length = MakeAddress(path, target);
  if (length == 0) {
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
