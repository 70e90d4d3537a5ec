// POSIX only: the fork server (posix:forkserver), server and child side.
//
// A small single-threaded process: this program started again before any user
// code ran. It waits for control messages, forks one child per message and
// relays each child's exit status to the parent that asked for it. It ends
// when its parent ends (its parent's pidfd, or getppid() every 100 ms where
// there are no pidfds) or closes the control socket (which the parent's end
// also does); its kill_on_parent_death children end with it
// (PR_SET_PDEATHSIG, or the server's lifeline: lifeline.h), the others run
// on, as children of a forked parent do.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/posix/child_ended_fd.h"
#include "backends/posix/child_side.h"
#include "backends/posix/cloexec.h"
#include "backends/posix/forkserver_protocol.h"
#include "backends/posix/lifeline.h"
#include "backends/posix/posix_child.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"
#include "backends/posix/posix_launch.h"
#include "backends/posix/spawn_protocol.h"
#include "backends/posix/unix_socket_transport.h"

namespace mproc::posix {
namespace {

// Writes `why` on stderr and ends this process with exit code 1.
[[noreturn]] void Fail(absl::string_view what, const absl::Status& why) {
  const std::string line =
      absl::StrCat("mproc: ", what, ": ", why.ToString(), "\n");
  (void)write(STDERR_FILENO, line.data(), line.size());
  _exit(1);
}

// One Start as the server received it: the descriptors of its control
// messages (-1 where absent), and how many handed-over objects it announced.
struct Received {
  int channel = -1;
  int stdio[3] = {-1, -1, -1};
  int listener = -1;
  std::vector<int> handovers;
  size_t expected_handovers = 0;
};

void CloseReceived(const Received& received) {
  CloseDescriptor(received.channel);
  for (int fd : received.stdio) CloseDescriptor(fd);
  CloseDescriptor(received.listener);
  for (int fd : received.handovers) CloseDescriptor(fd);
}

// In the forked child: puts stdio on 0-2, the channel on kRequestFd, the
// listener on kListenerFd, the handover table from kFirstHandoverFd on and
// then `lifeline` (unless -1), as posix:spawn does, and closes every other
// descriptor (the server's and its other children's; `end`: one past the
// highest the server may hold). The server is single-threaded: the child may
// allocate.
void ArrangeDescriptors(const Received& received, int lifeline, int end) {
  std::vector<int> sources = {received.stdio[0], received.stdio[1],
                              received.stdio[2], received.channel,
                              received.listener};
  sources.insert(sources.end(), received.handovers.begin(),
                 received.handovers.end());
  if (lifeline >= 0) sources.push_back(lifeline);
  // Target i: 0, 1, 2, kRequestFd, kListenerFd, kFirstHandoverFd, ...
  static_assert(kRequestFd == 3 && kListenerFd == 4 && kFirstHandoverFd == 5);
  const int floor = static_cast<int>(sources.size());
  // First out of the way of every target, then onto them.
  std::vector<int> moved(sources.size(), -1);
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i] >= 0) moved[i] = fcntl(sources[i], F_DUPFD, floor);
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    if (moved[i] >= 0) {
      (void)dup2(moved[i], static_cast<int>(i));
    } else {
      CloseDescriptor(static_cast<int>(i));
    }
  }
  for (int fd : moved) CloseDescriptor(fd);  // all at `floor` or above
  CloseDescriptorsFrom(floor, end);
}

// The forked child: waits for its parent's go, then runs the request.
// `limit`: the descriptor limit the server was started with (it raised its
// own, which the handover table may need while the descriptors move).
// `lifeline`, `end`: as for ArrangeDescriptors.
[[noreturn]] void RunServedChild(Backend* backend, const Received& received,
                                 pid_t server_pid, const rlimit& limit,
                                 int lifeline, int end) {
  ResetSignalState();
  ArrangeDescriptors(received, lifeline, end);
  const int own_lifeline =
      lifeline >= 0
          ? kFirstHandoverFd + static_cast<int>(received.handovers.size())
          : -1;
  (void)setrlimit(RLIMIT_NOFILE, &limit);
  absl::StatusOr<SpawnMessage> message = ReadSpawnMessage(kRequestFd);
  char go = 0;
  const ssize_t got =
      message.ok() ? RetryOnEintr([&] { return read(kRequestFd, &go, 1); }) : 0;
  // The parent gave up on this child (its Start failed): nothing to run.
  if (got != 1 || go != kGo) _exit(1);
  CloseDescriptor(kRequestFd);
  if (message->handovers.size() != received.handovers.size()) {
    Fail("this fork server's child cannot start",
         absl::InvalidArgumentError(absl::StrCat(
             "the launch request lists ", message->handovers.size(),
             " handed-over objects, the control message carried ",
             received.handovers.size(),
             "; parent and server must be the same build of the program")));
  }
  absl::StatusOr<ChildResources> resources = AdoptChildResources(*message);
  if (!resources.ok()) {
    Fail("this fork server's child cannot start", resources.status());
  }
  if (message->request.child.kill_on_parent_death) {
    // The server is single-threaded and ends with this child's parent.
    EndWithParent(server_pid, /*started_by_main_thread=*/true,
                  AdoptLifeline(own_lifeline));
  } else {
    CloseDescriptor(own_lifeline);
  }
  RunChildAndExit(backend, message->request, std::move(resources->listener),
                  std::move(resources->handovers));
}

// Sends `pid` (or -errno) and the child's pidfd (if >= 0) on `channel`.
void SendReply(int channel, int64_t pid, int pidfd) {
  iovec data{.iov_base = &pid, .iov_len = sizeof(pid)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  if (pidfd >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &pidfd, sizeof(int));
  }
  // The parent may have gone: then nobody reads it, and that is fine.
  (void)RetryOnEintr(
      [&] { return sendmsg(channel, &message, MSG_NOSIGNAL | MSG_DONTWAIT); });
}

class ForkServer {
 public:
  ForkServer(Backend* backend, int control)
      : backend_(backend), control_(control) {}

  // Serves until the parent ends or closes the control socket.
  void Serve() {
    const pid_t parent = getppid();
    const int parent_fd = OpenPidfdUnregistered(parent);
    if (getppid() != parent || parent == 1) return;  // the parent has gone
    // Ctrl-C in a terminal reaches the whole process group: the parent
    // decides what it means, not its server (as CPython's forkserver).
    (void)signal(SIGINT, SIG_IGN);
    // Its children get the parent's standard streams with each request: it
    // keeps stderr alone (for its own failure), so it holds no pipe of the
    // parent's open on stdin or stdout.
    if (const int null = open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0) {
      (void)dup2(null, STDIN_FILENO);
      (void)dup2(null, STDOUT_FILENO);
      if (null > STDERR_FILENO) CloseDescriptor(null);
    }
    // One descriptor per running child: as many as the hard limit allows
    // (each child gets the limit back).
    if (getrlimit(RLIMIT_NOFILE, &limit_) == 0) {
      rlimit raised = limit_;
      raised.rlim_cur = raised.rlim_max;
      (void)setrlimit(RLIMIT_NOFILE, &raised);
    }
    if (absl::Status opened = OpenChildEndedFd(); !opened.ok()) {
      Fail("the fork server cannot start", opened);
    }
    const int reaper = ChildEndedFd();
    // Every child gets it; those with kill_on_parent_death watch it.
    absl::StatusOr<int> lifeline = LifelineForChild();
    if (!lifeline.ok()) Fail("the fork server cannot start", lifeline.status());
    lifeline_ = *lifeline;
    HoldsWhatIsOpen();
    while (true) {
      pollfd ready[3] = {
          {.fd = control_, .events = POLLIN, .revents = 0},
          {.fd = reaper, .events = POLLIN, .revents = 0},
          {.fd = parent_fd, .events = POLLIN, .revents = 0},
      };
      // Without a pidfd (Linux < 5.3) the parent is checked every 100 ms.
      const int polled =
          poll(ready, parent_fd >= 0 ? 3 : 2, parent_fd >= 0 ? -1 : 100);
      if (polled < 0 && errno != EINTR) return;
      if ((ready[2].revents & POLLIN) != 0 || getppid() != parent) return;
      if ((ready[1].revents & POLLIN) != 0) {
        DrainChildEndedFd();
        ReapChildren();
      }
      if (ready[0].revents != 0 && !ServeOne(parent_fd)) return;
    }
  }

 private:
  // Receives one control message; forks the child of a Start once its
  // descriptors are all in. False when the parent closed the control socket.
  bool ServeOne(int parent_fd) {
    ControlHeader header;
    iovec data{.iov_base = &header, .iov_len = sizeof(header)};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const ssize_t n = RecvmsgCloexec(control_, &message, 0);
    if (n == 0) return false;
    if (n < 0)
      return errno == EINTR || errno == EAGAIN || errno == ENOBUFS ||
             errno == ENOMEM || errno == EMFILE || errno == ENFILE;
    std::vector<int> fds;
    for (cmsghdr* h = CMSG_FIRSTHDR(&message); h != nullptr;
         h = CMSG_NXTHDR(&message, h)) {
      if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
        fds.push_back(fd);
      }
    }
    Holds(fds);
    const bool whole = (message.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) == 0;
    if (whole && n == 1 && pending_ != nullptr &&
        header.flags == static_cast<uint8_t>(kMoreHandovers) &&
        pending_->handovers.size() + fds.size() <=
            pending_->expected_handovers) {
      pending_->handovers.insert(pending_->handovers.end(), fds.begin(),
                                 fds.end());
    } else {
      // A new Start: one still waiting for continuations was given up.
      DropPending();
      pending_ = std::make_unique<Received>();
      if (!whole || n != sizeof(header) || !Take(header, fds, *pending_)) {
        // Not from an mproc parent of this build, or cut short (its
        // descriptors did not fit here): refuse. The parent, if any, sees
        // its channel close without a reply.
        for (int fd : fds) CloseDescriptor(fd);
        pending_.reset();
        return true;
      }
    }
    if (pending_->handovers.size() < pending_->expected_handovers) {
      return true;  // continuations follow
    }
    const std::unique_ptr<Received> received = std::move(pending_);
    Fork(*received, parent_fd);
    return true;
  }

  // Fills `received` from a Start's first message. False when the
  // descriptors do not match the header.
  static bool Take(const ControlHeader& header, const std::vector<int>& fds,
                   Received& received) {
    if (header.handovers > kMaxHandovers) return false;
    size_t next = 0;
    auto take = [&](bool present) {
      return present && next < fds.size() ? fds[next++] : -1;
    };
    received.channel = take(true);
    received.stdio[0] = take((header.flags & kHasStdin) != 0);
    received.stdio[1] = take((header.flags & kHasStdout) != 0);
    received.stdio[2] = take((header.flags & kHasStderr) != 0);
    received.listener = take((header.flags & kHasListener) != 0);
    const size_t fixed = next;
    received.handovers.assign(fds.begin() + static_cast<ptrdiff_t>(next),
                              fds.end());
    received.expected_handovers = header.handovers;
    const size_t first_batch =
        std::min<size_t>(header.handovers, kMaxFdsPerMessage - fixed);
    return received.channel >= 0 &&
           ((header.flags & kHasListener) == 0 || received.listener >= 0) &&
           received.handovers.size() == first_batch;
  }

  // Closes the descriptors of a Start whose continuations never came.
  void DropPending() {
    if (pending_ != nullptr) CloseReceived(*pending_);
    pending_.reset();
  }

  // Forks the child of `received` and answers its parent.
  void Fork(Received& received, int parent_fd) {
    const pid_t server = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
      CloseDescriptor(control_);
      CloseChildEndedFdInChild();
      CloseDescriptor(parent_fd);
      RunServedChild(backend_, received, server, limit_, lifeline_,
                     DescriptorsEnd());
    }
    const int fork_error = errno;
    const int channel = std::exchange(received.channel, -1);
    CloseReceived(received);
    if (pid < 0) {
      SendReply(channel, -int64_t{fork_error}, -1);
      CloseDescriptor(channel);
      return;
    }
    // Our child, not reaped before this returns: the pidfd names it.
    const int pidfd = OpenPidfdUnregistered(pid);
    SendReply(channel, pid, pidfd);
    CloseDescriptor(pidfd);
    channels_[pid] = channel;
  }

  // Reaps every ended child and sends its status to its parent.
  void ReapChildren() {
    while (true) {
      siginfo_t info{};
      if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG) != 0) {
        if (errno == EINTR) continue;
        return;  // ECHILD: none left
      }
      if (info.si_pid == 0) return;
      const auto it = channels_.find(info.si_pid);
      if (it == channels_.end()) continue;
      const ForkServerStatus status{
          .kind = info.si_code == CLD_EXITED ? kExitedKind : kSignaledKind,
          .value = info.si_status};
      (void)RetryOnEintr([&] {
        return send(it->second, &status, sizeof(status),
                    MSG_NOSIGNAL | MSG_DONTWAIT);
      });
      CloseDescriptor(it->second);
      channels_.erase(it);
    }
  }

  // Notes descriptors the server holds, for the bounded close loop in its
  // children (CloseDescriptorsFrom).
  void Holds(const std::vector<int>& fds) {
    for (int fd : fds) end_ = std::max(end_, fd + 1);
  }

  // Notes every descriptor open now, once its own are made: those and the
  // ones it receives later (Holds) are all it can hold, so its children's
  // close loops stop there instead of at the descriptor limit. Made before
  // the limit was raised, they are all below the limit it started with.
  void HoldsWhatIsOpen() {
    if (MPROC_POSIX_HAVE_CLOSE_RANGE) return;  // no loop to bound
    constexpr rlim_t kMostAtStart = 1 << 20;
    const int limit = static_cast<int>(std::min(limit_.rlim_cur, kMostAtStart));
    for (int fd = 0; fd < limit; ++fd) {
      if (fcntl(fd, F_GETFD) >= 0) end_ = fd + 1;
    }
  }

  // One past the highest descriptor this process may hold (0: unknown, up
  // to the limit).
  int DescriptorsEnd() const { return end_; }

  Backend* const backend_;
  const int control_;
  int lifeline_ = -1;  // the read end of the server's lifeline, or -1
  int end_ = 0;        // one past the highest descriptor it has held
  rlimit limit_{.rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY};
  // Each running child's channel to its parent.
  absl::flat_hash_map<pid_t, int> channels_;
  // The Start whose continuation messages are still to come.
  std::unique_ptr<Received> pending_;
};

}  // namespace

void RunForkServerIfRequested(Backend* backend, int argc, char** argv) {
  if (argc != 2 || !absl::StartsWith(argv[1], kForkServerFlag)) return;
  int fd = -1;
  if (!absl::SimpleAtoi(argv[1] + kForkServerFlag.size(), &fd) ||
      fd != kControlFd) {
    Fail("this fork server cannot start",
         absl::InvalidArgumentError(absl::StrCat(
             "bad command line flag ", argv[1],
             "; the flag is for the server mproc's posix:forkserver starts: "
             "do not pass it by hand")));
  }
  int type = 0;
  socklen_t size = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 ||
      type != SOCK_SEQPACKET) {
    Fail("this fork server cannot start",
         absl::FailedPreconditionError(absl::StrCat(
             "descriptor ", fd, " is not the control socket; do not pass ",
             kForkServerFlag, " by hand")));
  }
  ForkServer(backend, fd).Serve();
  _exit(0);
}

}  // namespace mproc::posix
