// POSIX only: the "spawn" start method, parent side (posix_spawn of self).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/posix/child_side.h"
#include "backends/posix/cloexec.h"
#include "backends/posix/lifeline.h"
#include "backends/posix/posix_child.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"
#include "backends/posix/posix_launch.h"
#include "backends/posix/posix_shared.h"
#include "backends/posix/self_program.h"
#include "backends/posix/spawn_protocol.h"
#include "backends/posix/unix_socket_transport.h"
#include "gsl/span"
#include "gsl/util"

namespace mproc::posix {
namespace {

constexpr absl::string_view kFdAdvice =
    "raise the descriptor limit (ulimit -n) or close descriptors";

// Sends as much of `bytes` as `flags` allow; returns how much, or an error
// (EAGAIN with MSG_DONTWAIT is not one).
absl::StatusOr<size_t> SendSome(int fd, absl::string_view bytes, int flags) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent,
                           flags | MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno != EINTR) {
      return ErrnoStatus(errno, "send(launch request)",
                         "the child ended before reading its launch request: "
                         "call mproc::RunChildIfRequested(argc, argv) first "
                         "in main");
    }
  }
  return sent;
}

// `fd` itself when it is above `floor`, else a CLOEXEC duplicate above it
// (held in `holder`), so dup2 onto the low descriptors 3, 4, 5, ... in the
// child never overwrites a source.
absl::StatusOr<int> AboveFloor(int fd, int floor, Fd& holder) {
  if (fd > floor) return fd;
  holder = Fd::Open([&] { return fcntl(fd, F_DUPFD_CLOEXEC, floor + 1); });
  if (!holder.valid())
    return ErrnoStatus(errno, "fcntl(F_DUPFD_CLOEXEC)", kFdAdvice);
  return holder.get();
}

// posix_spawn's file actions and attributes, destroyed with this object.
class SpawnSetup {
 public:
  SpawnSetup() {
    init_error_ = posix_spawn_file_actions_init(&actions_);
    actions_ready_ = init_error_ == 0;
    if (actions_ready_) init_error_ = posix_spawnattr_init(&attributes_);
    attributes_ready_ = actions_ready_ && init_error_ == 0;
  }
  ~SpawnSetup() {
    if (actions_ready_) (void)posix_spawn_file_actions_destroy(&actions_);
    if (attributes_ready_) (void)posix_spawnattr_destroy(&attributes_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // The child gets `request_fd` as kRequestFd, `listener_fd` (or -1) as
  // kListenerFd, `handover_fds` from kFirstHandoverFd on, stdio, and nothing
  // else; its signal mask starts empty and every signal's disposition
  // default (SIG_IGN would survive the exec).
  int Prepare(int request_fd, int listener_fd,
              gsl::span<const int> handover_fds) {
    if (init_error_ != 0) return init_error_;
    int error =
        posix_spawn_file_actions_adddup2(&actions_, request_fd, kRequestFd);
    if (error == 0 && listener_fd >= 0) {
      error =
          posix_spawn_file_actions_adddup2(&actions_, listener_fd, kListenerFd);
    }
    int last = listener_fd >= 0 ? kListenerFd : kRequestFd;
    for (size_t i = 0; error == 0 && i < handover_fds.size(); ++i) {
      last = kFirstHandoverFd + static_cast<int>(i);
      error =
          posix_spawn_file_actions_adddup2(&actions_, handover_fds[i], last);
    }
    if (error == 0) error = AddCloseFrom(last + 1);
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    if (error == 0) error = posix_spawnattr_setsigmask(&attributes_, &empty);
    if (error == 0) error = posix_spawnattr_setsigdefault(&attributes_, &all);
    if (error == 0) {
      error = posix_spawnattr_setflags(
          &attributes_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
    return error;
  }

  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attributes() const { return &attributes_; }

 private:
  // Closes every descriptor from `first` on in the child:
  // posix_spawn_file_actions_addclosefrom_np where the platform has it
  // (MPROC_POSIX_HAVE_POSIX_SPAWN_CLOSEFROM), else one close action for each
  // descriptor open here now without close-on-exec, found by a loop up to
  // the descriptor limit (the close-on-exec ones, all of mproc's, close
  // themselves). A descriptor closed meanwhile by another thread: glibc and
  // musl ignore its close action, which POSIX lets fail the spawn (EBADF).
  int AddCloseFrom(int first) {
#if MPROC_POSIX_HAVE_POSIX_SPAWN_CLOSEFROM
    return posix_spawn_file_actions_addclosefrom_np(&actions_, first);
#else
    const int end = DescriptorLimit();
    for (int fd = first; fd < end; ++fd) {
      const int flags = fcntl(fd, F_GETFD);
      if (flags < 0 || (flags & FD_CLOEXEC) != 0) continue;
      if (const int error = posix_spawn_file_actions_addclose(&actions_, fd);
          error != 0) {
        return error;
      }
    }
    return 0;
#endif
  }

  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attributes_;
  int init_error_ = 0;
  bool actions_ready_ = false;
  bool attributes_ready_ = false;
};

}  // namespace

absl::StatusOr<pid_t> SpawnSelf(absl::string_view flag, int request_fd,
                                int listener_fd,
                                gsl::span<const int> handover_fds) {
  absl::StatusOr<std::string> program = ProgramToReexecute();
  if (!program.ok()) return program.status();
  // Every source above the highest target, so no dup2 overwrites one.
  const int floor =
      std::max(kListenerFd,
               kFirstHandoverFd + static_cast<int>(handover_fds.size()) - 1);
  Fd request_holder, listener_holder;
  absl::StatusOr<int> request_above =
      AboveFloor(request_fd, floor, request_holder);
  if (!request_above.ok()) return request_above.status();
  int listener_above = -1;
  if (listener_fd >= 0) {
    absl::StatusOr<int> fd = AboveFloor(listener_fd, floor, listener_holder);
    if (!fd.ok()) return fd.status();
    listener_above = *fd;
  }
  std::vector<Fd> handover_holders(handover_fds.size());
  std::vector<int> handovers_above;
  handovers_above.reserve(handover_fds.size());
  for (size_t i = 0; i < handover_fds.size(); ++i) {
    absl::StatusOr<int> fd =
        AboveFloor(handover_fds[i], floor, handover_holders[i]);
    if (!fd.ok()) return fd.status();
    handovers_above.push_back(*fd);
  }
  // Without atomic close-on-exec, or without addclosefrom (whose fallback
  // lists the descriptors open now), no other thread may be between making
  // a descriptor and marking it close-on-exec until the child has exec'd
  // (cloexec.h). No Fd is made or closed by this thread in between.
  constexpr bool kHoldDescriptors =
      !kAtomicCloexec || !MPROC_POSIX_HAVE_POSIX_SPAWN_CLOSEFROM;
  if (kHoldDescriptors) HoldDescriptorsForFork();
  const auto release = gsl::finally([] {
    if (kHoldDescriptors) ReleaseDescriptorsAfterFork();
  });
  SpawnSetup setup;
  if (const int error =
          setup.Prepare(*request_above, listener_above, handovers_above);
      error != 0) {
    return ErrnoStatus(error, "posix_spawn_file_actions",
                       ProcessStartAdvice(error));
  }
  std::string argument = absl::StrCat(flag, kRequestFd);
  char* argv[] = {const_cast<char*>(ProgramArgv0()), argument.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, program->c_str(), setup.actions(),
                                  setup.attributes(), argv, environ);
  if (spawned != 0) {
    return ErrnoStatus(spawned, absl::StrCat("posix_spawn(", *program, ")"),
                       ProcessStartAdvice(spawned));
  }
  return pid;
}

// The child finds its backend again by registration: `backend` is unused.
absl::StatusOr<std::unique_ptr<Child>> LaunchSpawn(
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
  const std::string& bytes = *message;
  std::vector<int> handover_fds = HandoverFds(*handovers);
  // The lifeline's read end, where the build uses one, after the last
  // handed-over object (lifeline.h).
  if (request.child.kill_on_parent_death) {
    absl::StatusOr<int> lifeline = LifelineForChild();
    if (!lifeline.ok()) return lifeline.status();
    if (*lifeline >= 0) handover_fds.push_back(*lifeline);
  }

  auto [ours, theirs] = Fd::OpenPair([](int pair[2]) {
    return SocketPairCloexec(AF_UNIX, SOCK_STREAM, pair);
  });
  if (!ours.valid()) return ErrnoStatus(errno, "socketpair", kFdAdvice);
  // Most requests fit the socket buffer: the child finds them waiting.
  absl::StatusOr<size_t> sent = SendSome(ours.get(), bytes, MSG_DONTWAIT);
  if (!sent.ok()) return sent.status();

  // Reserves the descriptor the child's pidfd needs (see LaunchFork).
  absl::StatusOr<Fd> reserved = OpenPidfd(getpid());
  if (!reserved.ok()) return reserved.status();
  absl::StatusOr<pid_t> pid =
      SpawnSelf(kChildFlag, theirs.get(),
                listener != nullptr ? listener->fd() : -1, handover_fds);
  if (!pid.ok()) return pid.status();
  theirs.Reset();
  reserved->Reset();
  if (*sent < bytes.size()) {
    absl::StatusOr<size_t> rest =
        SendSome(ours.get(), absl::string_view(bytes).substr(*sent), 0);
    if (!rest.ok()) {
      KillAndReap(*pid);
      return rest.status();
    }
  }
  return AdoptLaunchedChild(*pid, listener);
}

}  // namespace mproc::posix
