// POSIX only: the "spawn" start method, parent side (posix_spawn of self).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/wire.h"
#include "backends/posix/child_side.h"
#include "backends/posix/posix_child.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"
#include "backends/posix/posix_launch.h"
#include "backends/posix/posix_shared.h"
#include "backends/posix/self_program.h"
#include "backends/posix/spawn_protocol.h"
#include "backends/posix/unix_socket_transport.h"

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
// (held in `holder`), so dup2 onto the low descriptors 3 and 4 in the child
// never overwrites a source.
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
    if (error == 0) {
      error = posix_spawn_file_actions_addclosefrom_np(&actions_, last + 1);
    }
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
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attributes_;
  int init_error_ = 0;
  bool actions_ready_ = false;
  bool attributes_ready_ = false;
};

}  // namespace

// The child finds its backend again by registration: `backend` is unused.
absl::StatusOr<std::unique_ptr<Child>> LaunchSpawn(
    Backend* /*backend*/, const LaunchRequest& request) {
  absl::StatusOr<UnixListener*> prepared = PrepareLaunch(request);
  if (!prepared.ok()) return prepared.status();
  UnixListener* const listener = *prepared;
  absl::StatusOr<std::vector<PosixShared*>> handovers =
      PosixHandovers(request.handovers);
  if (!handovers.ok()) return handovers.status();
  if (handovers->size() > kMaxHandovers) {
    return absl::InvalidArgumentError(
        absl::StrCat("a child can be handed at most ", kMaxHandovers,
                     " shared-state objects, not ", handovers->size()));
  }
  absl::StatusOr<std::string> encoded = EncodeLaunchRequest(request);
  if (!encoded.ok()) return encoded.status();
  absl::StatusOr<std::string> program = ProgramToReexecute();
  if (!program.ok()) return program.status();
  ByteWriter body;
  body.PutBool(OnMainThread());
  body.PutBytes(*encoded);
  body.PutBytes(listener != nullptr ? listener->address() : "");
  body.PutVarint(handovers->size());
  for (PosixShared* object : *handovers) {
    body.PutVarint(static_cast<uint64_t>(object->kind()));
    body.PutVarint(object->size());
  }
  ByteWriter message;
  message.PutFixed64(body.data().size());
  std::string bytes = message.Release() + body.Release();

  auto [ours, theirs] = Fd::OpenPair([](int pair[2]) {
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
  });
  if (!ours.valid()) return ErrnoStatus(errno, "socketpair", kFdAdvice);
  // Most requests fit the socket buffer: the child finds them waiting.
  absl::StatusOr<size_t> sent = SendSome(ours.get(), bytes, MSG_DONTWAIT);
  if (!sent.ok()) return sent.status();

  // Every source above the highest target, so no dup2 overwrites one.
  const int floor = kFirstHandoverFd + static_cast<int>(handovers->size()) - 1;
  Fd request_holder, listener_holder;
  absl::StatusOr<int> request_fd =
      AboveFloor(theirs.get(), floor, request_holder);
  if (!request_fd.ok()) return request_fd.status();
  int listener_fd = -1;
  if (listener != nullptr) {
    absl::StatusOr<int> fd = AboveFloor(listener->fd(), floor, listener_holder);
    if (!fd.ok()) return fd.status();
    listener_fd = *fd;
  }
  std::vector<Fd> handover_holders(handovers->size());
  std::vector<int> handover_fds;
  for (size_t i = 0; i < handovers->size(); ++i) {
    absl::StatusOr<int> fd =
        AboveFloor((*handovers)[i]->fd(), floor, handover_holders[i]);
    if (!fd.ok()) return fd.status();
    handover_fds.push_back(*fd);
  }
  // Reserves the descriptor the child's pidfd needs (see LaunchFork).
  absl::StatusOr<Fd> reserved = OpenPidfd(getpid());
  if (!reserved.ok()) return reserved.status();

  SpawnSetup setup;
  if (const int error = setup.Prepare(*request_fd, listener_fd, handover_fds);
      error != 0) {
    return ErrnoStatus(error, "posix_spawn_file_actions",
                       ProcessStartAdvice(error));
  }
  std::string flag = absl::StrCat(kChildFlag, kRequestFd);
  char* argv[] = {program_invocation_name, flag.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, program->c_str(), setup.actions(),
                                  setup.attributes(), argv, environ);
  if (spawned != 0) {
    return ErrnoStatus(spawned, absl::StrCat("posix_spawn(", *program, ")"),
                       ProcessStartAdvice(spawned));
  }
  theirs.Reset();
  request_holder.Reset();
  listener_holder.Reset();
  handover_holders.clear();
  reserved->Reset();
  if (*sent < bytes.size()) {
    absl::StatusOr<size_t> rest =
        SendSome(ours.get(), absl::string_view(bytes).substr(*sent), 0);
    if (!rest.ok()) {
      KillAndReap(pid);
      return rest.status();
    }
  }
  return AdoptLaunchedChild(pid, listener);
}

}  // namespace mproc::posix
