// POSIX only: the "forkserver" start method, parent side.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api/fork_safety.h"
#include "backends/posix/child_side.h"
#include "backends/posix/cloexec.h"
#include "backends/posix/forkserver_child.h"
#include "backends/posix/forkserver_protocol.h"
#include "backends/posix/posix_child.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"
#include "backends/posix/posix_launch.h"
#include "backends/posix/posix_shared.h"
#include "backends/posix/spawn_protocol.h"
#include "backends/posix/unix_socket_transport.h"
#include "gsl/span"

namespace mproc::posix {
namespace {

constexpr absl::string_view kFdAdvice =
    "raise the descriptor limit (ulimit -n) or close descriptors";
constexpr absl::string_view kStartAgain =
    "Start again: mproc starts a new fork server";

// The running fork server, as its parent sees it.
struct Server {
  pid_t owner = 0;  // the process that started it
  pid_t pid = 0;
  Fd control;                     // SOCK_SEQPACKET, our end
  Fd watch;                       // its pidfd, polled while a Start waits
  std::unique_ptr<Child> handle;  // reaps it once it has ended
  // Held while one Start's control messages are sent, so no other Start's
  // come between them (forkserver_protocol.h).
  absl::Mutex send_mu;
};

ABSL_CONST_INIT absl::Mutex server_mu(absl::kConstInit);
// Never destroyed (the server ends with this process, which closes the
// control socket). Only the process that started the server uses it: a
// forked child forgets it (ForgetForkServerInChild).
std::shared_ptr<Server>* current_server ABSL_GUARDED_BY(server_mu) = nullptr;

// True once the process behind pidfd `fd` has ended (false if `fd` < 0).
bool Ended(int fd) {
  if (fd < 0) return false;
  pollfd ended{.fd = fd, .events = POLLIN, .revents = 0};
  return poll(&ended, 1, 0) > 0 && (ended.revents & POLLIN) != 0;
}

absl::Status ServerGone(pid_t server, absl::string_view when) {
  return absl::UnavailableError(absl::StrCat(
      "the fork server (pid ", server, ") ended ", when, "; ", kStartAgain));
}

// Starts a fork server: this program again, with the control socket on
// kControlFd.
absl::StatusOr<std::shared_ptr<Server>> StartServer() {
  auto [ours, theirs] = Fd::OpenPair([](int pair[2]) {
    return SocketPairCloexec(AF_UNIX, SOCK_SEQPACKET, pair);
  });
  if (!ours.valid()) return ErrnoStatus(errno, "socketpair", kFdAdvice);
  // Reserves the descriptors the server's pidfds need.
  absl::StatusOr<Fd> reserved = OpenPidfd(getpid());
  if (!reserved.ok()) return reserved.status();
  absl::StatusOr<Fd> reserved2 = OpenPidfd(getpid());
  if (!reserved2.ok()) return reserved2.status();
  absl::StatusOr<pid_t> pid = SpawnSelf(kForkServerFlag, theirs.get(), -1);
  if (!pid.ok()) return pid.status();
  theirs.Reset();
  reserved->Reset();
  reserved2->Reset();
  auto server = std::make_shared<Server>();
  server->owner = getpid();
  server->pid = *pid;
  server->control = std::move(ours);
  absl::StatusOr<std::unique_ptr<Child>> handle =
      AdoptLaunchedChild(*pid, nullptr);
  if (!handle.ok()) return handle.status();  // killed and reaped
  server->handle = *std::move(handle);
  absl::StatusOr<Fd> watch = OpenPidfd(*pid);
  if (!watch.ok()) {
    (void)server->handle->Kill();
    (void)server->handle->Wait(absl::InfiniteFuture());
    return watch.status();
  }
  server->watch = *std::move(watch);
  return server;
}

// The fork server, started (again) if there is none or it has ended.
absl::StatusOr<std::shared_ptr<Server>> RunningServer() {
  absl::MutexLock lock(&server_mu);
  if (current_server == nullptr) {
    current_server = new std::shared_ptr<Server>();
  }
  std::shared_ptr<Server>& server = *current_server;
  if (server != nullptr && server->owner != getpid()) {
    // A child forked without mproc (ForgetForkServerInChild did not run):
    // its parent's server, never used or destroyed here.
    new std::shared_ptr<Server>(std::move(server));
  }
  if (server != nullptr) {
    // Reaps it if it has ended.
    absl::StatusOr<std::optional<ExitStatus>> ended =
        server->handle->Wait(absl::InfinitePast());
    if (ended.ok() && !ended->has_value()) return server;
    server.reset();
  }
  absl::StatusOr<std::shared_ptr<Server>> started = StartServer();
  if (started.ok()) server = *started;
  return started;
}

// Room for the SCM_RIGHTS of one control message.
constexpr size_t kControlSpace = CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage);

// Sends one message on the server's control socket: `data`, and `fds` (at
// most kMaxFdsPerMessage) with SCM_RIGHTS.
[[nodiscard]] absl::Status SendFds(const Server& server, absl::string_view data,
                                   gsl::span<const int> fds) {
  iovec bytes{.iov_base = const_cast<char*>(data.data()),
              .iov_len = data.size()};
  alignas(cmsghdr) char control[kControlSpace] = {};
  msghdr message{};
  message.msg_iov = &bytes;
  message.msg_iovlen = 1;
  if (!fds.empty()) {
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  if (RetryOnEintr([&] {
        return sendmsg(server.control.get(), &message, MSG_NOSIGNAL);
      }) == static_cast<ssize_t>(data.size())) {
    return absl::OkStatus();
  }
  const int error = errno;
  if (error == EPIPE || error == ECONNRESET || error == ECONNREFUSED) {
    return ServerGone(server.pid, "before this Start reached it");
  }
  if (error == ETOOMANYREFS) {
    return absl::ResourceExhaustedError(
        absl::StrCat("sendmsg(fork server): too many descriptors in flight "
                     "for this user (",
                     fds.size(),
                     " in this message); raise the descriptor limit (ulimit "
                     "-n) or hand the child fewer shared-state objects"));
  }
  return ErrnoStatus(error, "sendmsg(fork server)", ProcessStartAdvice(error));
}

// Sends the control messages for one Start: `channel` (the child's end),
// this process's standard streams, `listener` (or -1) and `handovers` (the
// descriptors of the handover table), continued in as many messages as
// they need.
[[nodiscard]] absl::Status SendControl(Server& server, int channel,
                                       int listener,
                                       gsl::span<const int> handovers) {
  ControlHeader header;
  header.handovers = static_cast<uint32_t>(handovers.size());
  std::vector<int> fds;
  fds.reserve(kMaxControlFds + handovers.size());
  fds.push_back(channel);
  constexpr uint8_t kStdioFlags[3] = {kHasStdin, kHasStdout, kHasStderr};
  for (int fd = 0; fd < 3; ++fd) {
    if (fcntl(fd, F_GETFD) == -1) continue;  // closed here: closed there
    header.flags |= kStdioFlags[fd];
    fds.push_back(fd);
  }
  if (listener >= 0) {
    header.flags |= kHasListener;
    fds.push_back(listener);
  }
  fds.insert(fds.end(), handovers.begin(), handovers.end());
  const gsl::span<const int> all(fds);
  const size_t first = std::min<size_t>(all.size(), kMaxFdsPerMessage);
  absl::MutexLock lock(&server.send_mu);
  if (absl::Status sent =
          SendFds(server,
                  absl::string_view(reinterpret_cast<const char*>(&header),
                                    sizeof(header)),
                  all.first(first));
      !sent.ok()) {
    return sent;
  }
  // The handover descriptors that did not fit (forkserver_protocol.h).
  constexpr char kMore[1] = {kMoreHandovers};
  for (size_t done = first; done < all.size();) {
    const size_t batch = std::min<size_t>(all.size() - done, kMaxFdsPerMessage);
    if (absl::Status sent = SendFds(server, absl::string_view(kMore, 1),
                                    all.subspan(done, batch));
        !sent.ok()) {
      return sent;
    }
    done += batch;
  }
  return absl::OkStatus();
}

struct Reply {
  pid_t pid = 0;
  Fd pidfd;  // invalid on a kernel without pidfds
};

// Waits for the server's Reply on `channel`.
absl::StatusOr<Reply> AwaitReply(const Server& server, int channel) {
  int64_t value = 0;
  size_t got = 0;
  Fd pidfd;
  while (got < sizeof(value)) {
    pollfd ready[2] = {
        {.fd = channel, .events = POLLIN, .revents = 0},
        {.fd = server.watch.get(), .events = POLLIN, .revents = 0}};
    if (poll(ready, server.watch.valid() ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "poll(fork server)", "");
    }
    if (ready[0].revents == 0) {
      // Ended without answering (an answer is read before this is seen).
      return ServerGone(server.pid, "while starting this child");
    }
    iovec data{.iov_base = reinterpret_cast<char*>(&value) + got,
               .iov_len = sizeof(value) - got};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    ssize_t n;
    {
      // The pidfd is created by recvmsg: registered before any fork.
      const DescriptorChange change;
      n = RecvmsgCloexec(channel, &message, MSG_DONTWAIT);
      for (cmsghdr* h = CMSG_FIRSTHDR(&message); n > 0 && h != nullptr;
           h = CMSG_NXTHDR(&message, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
            h->cmsg_len != CMSG_LEN(sizeof(int))) {
          continue;
        }
        int fd;
        std::memcpy(&fd, CMSG_DATA(h), sizeof(int));
        pidfd = Fd(fd);
      }
    }
    if (n > 0 && (message.msg_flags & MSG_CTRUNC) != 0) {
      // The pidfd did not fit this process's descriptor table. The child
      // waits for kGo: the channel's end makes it exit.
      return absl::ResourceExhaustedError(absl::StrCat(
          "no descriptor left for the child's pidfd; ", kFdAdvice));
    }
    if (n == 0) {
      if (Ended(server.watch.get())) {
        return ServerGone(server.pid, "while starting this child");
      }
      // Alive, but it dropped the request: it could not receive its
      // descriptors (its table is full), or the message was not whole.
      return absl::ResourceExhaustedError(absl::StrCat(
          "the fork server (pid ", server.pid,
          ") could not take this Start (out of descriptors?); end some "
          "children or raise the descriptor limit (ulimit -n), then Start "
          "again"));
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ErrnoStatus(errno, "recvmsg(fork server)", "");
    }
    got += static_cast<size_t>(n);
  }
  if (value == 0) {
    return absl::InternalError(
        "the fork server's reply is malformed; parent and server must be the "
        "same build of the program");
  }
  if (value < 0) {
    const int error = static_cast<int>(-value);
    return ErrnoStatus(error, "fork (in the fork server)",
                       ProcessStartAdvice(error));
  }
  return Reply{.pid = static_cast<pid_t>(value), .pidfd = std::move(pidfd)};
}

// Writes `rest` on `fd`, removing what it sent: all of it, or with
// MSG_DONTWAIT in `flags` as much as the socket takes now.
absl::Status Send(int fd, absl::string_view& rest, int flags) {
  while (!rest.empty()) {
    const ssize_t n = send(fd, rest.data(), rest.size(), flags | MSG_NOSIGNAL);
    if (n >= 0) {
      rest.remove_prefix(static_cast<size_t>(n));
    } else if ((flags & MSG_DONTWAIT) != 0 &&
               (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return absl::OkStatus();  // the rest later
    } else if (errno != EINTR) {
      return ErrnoStatus(errno, "send(launch request)",
                         "the fork server's child ended before reading its "
                         "launch request");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Child>> LaunchForkServer(
    Backend* /*backend*/, const LaunchRequest& request) {
  absl::StatusOr<UnixListener*> prepared = PrepareLaunch(request);
  if (!prepared.ok()) return prepared.status();
  UnixListener* const listener = *prepared;
  absl::StatusOr<std::vector<PosixShared*>> handovers =
      HandoversToSend(request);
  if (!handovers.ok()) return handovers.status();
  absl::StatusOr<std::string> message = EncodeSpawnMessage(
      request, OnMainThread(), listener != nullptr ? listener->address() : "",
      *handovers);
  if (!message.ok()) return message.status();
  const std::vector<int> handover_fds = HandoverFds(*handovers);
  absl::StatusOr<std::shared_ptr<Server>> server = RunningServer();
  if (!server.ok()) return server.status();

  auto [ours, theirs] = Fd::OpenPair([](int pair[2]) {
    return SocketPairCloexec(AF_UNIX, SOCK_STREAM, pair);
  });
  if (!ours.valid()) return ErrnoStatus(errno, "socketpair", kFdAdvice);
  // Most requests fit the socket buffer: the child finds them waiting.
  *message += kGo;  // sent only once the server's reply is in (below)
  absl::string_view rest(*message);
  rest.remove_suffix(1);
  if (absl::Status s = Send(ours.get(), rest, MSG_DONTWAIT); !s.ok()) return s;
  // Reserves the descriptor the child's pidfd needs (see LaunchFork), so a
  // full descriptor table fails here, before any child exists.
  absl::StatusOr<Fd> reserved = OpenPidfd(getpid());
  if (!reserved.ok()) return reserved.status();
  if (absl::Status sent =
          SendControl(**server, theirs.get(),
                      listener != nullptr ? listener->fd() : -1, handover_fds);
      !sent.ok()) {
    return sent;
  }
  theirs.Reset();
  reserved->Reset();
  absl::StatusOr<Reply> reply = AwaitReply(**server, ours.get());
  if (!reply.ok()) return reply.status();  // the child, if any, exits
  rest = absl::string_view(rest.data(), rest.size() + 1);  // and kGo
  if (absl::Status s = Send(ours.get(), rest, 0); !s.ok()) {
    if (reply->pidfd.valid())
      (void)SendSignal(reply->pid, reply->pidfd, SIGKILL);
    return s;
  }
  std::shared_ptr<const void> until_reaped;
  if (listener != nullptr) {
    listener->MarkHandedOver();
    until_reaped = listener->directory();
  }
  return MakeForkServerChild(reply->pid, std::move(reply->pidfd),
                             std::move(ours), std::move(until_reaped));
}

void HoldForkServerForFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  server_mu.Lock();
}

void ReleaseForkServerAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  server_mu.Unlock();
}

void ForgetForkServerInChild() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  ResetMutexInForkedChild(server_mu);
  // The parent's server is not ours (its descriptors are closed here): left
  // as it is, never destroyed; this process starts its own when it needs one.
  current_server = nullptr;
}

}  // namespace mproc::posix
