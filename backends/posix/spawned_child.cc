// POSIX only: the "spawn" start method, child side (read request, run, exit).
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/posix/child_side.h"
#include "backends/posix/lifeline.h"
#include "backends/posix/peer_credentials.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"
#include "backends/posix/posix_launch.h"
#include "backends/posix/spawn_protocol.h"
#include "backends/posix/unix_socket_transport.h"

namespace mproc::posix {
namespace {

// Ends this process with exit code 1 and one line on stderr; nothing ran.
[[noreturn]] void FailLaunch(const absl::Status& why) {
  const std::string line = absl::StrCat(
      "mproc: this spawned child cannot start: ", why.ToString(), "\n");
  (void)write(STDERR_FILENO, line.data(), line.size());
  _exit(1);
}

constexpr absl::string_view kNotByHand =
    "the flag is for children that mproc's posix:spawn starts; do not pass "
    "it by hand";

// OK when descriptor `fd` is a socket whose other end this process's parent
// made (the socketpair of LaunchSpawn).
absl::Status CheckRequestSocket(int fd) {
  struct stat info;
  if (fstat(fd, &info) != 0) {
    return ErrnoStatus(errno, absl::StrCat("fstat(descriptor ", fd, ")"),
                       kNotByHand);
  }
  if (!S_ISSOCK(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("descriptor ", fd, " of ", kChildFlag, fd,
                     " is not a socket; ", kNotByHand));
  }
  // Where the OS names the peer's pid (SO_PEERCRED), it must be the parent.
  // getpeereid gives no pid, and some platforms nothing: there the socket
  // type is all that is checked (docs/design.md §5).
  absl::StatusOr<PeerCredentials> peer = GetPeerCredentials(fd);
  if (absl::IsUnimplemented(peer.status())) return absl::OkStatus();
  if (!peer.ok()) {
    return absl::Status(
        peer.status().code(),
        absl::StrCat(peer.status().message(), "; ", kNotByHand));
  }
  if (peer->pid.has_value() && *peer->pid != getppid()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the launch request on descriptor ", fd, " comes from process ",
        *peer->pid, ", not from this process's parent ", getppid(),
        " (or the parent has died); ", kNotByHand));
  }
  return absl::OkStatus();
}

}  // namespace

void RunSpawnedChildIfRequested(Backend* backend, int argc, char** argv) {
  if (argc != 2 || !absl::StartsWith(argv[1], kChildFlag)) return;
  int fd = -1;
  if (!absl::SimpleAtoi(argv[1] + kChildFlag.size(), &fd) || fd < 0) {
    FailLaunch(absl::InvalidArgumentError(
        absl::StrCat("bad command line flag ", argv[1])));
  }
  if (absl::Status s = CheckRequestSocket(fd); !s.ok()) FailLaunch(s);
  absl::StatusOr<SpawnMessage> message = ReadSpawnMessage(fd);
  CloseDescriptor(fd);
  if (!message.ok()) {
    FailLaunch(absl::Status(
        message.status().code(),
        absl::StrCat(message.status().message(),
                     "; parent and child must be the same build of the "
                     "program")));
  }
  // Before anything opens a descriptor that could land on one of them.
  absl::StatusOr<ChildResources> resources = AdoptChildResources(*message);
  if (!resources.ok()) FailLaunch(resources.status());
  const ChildIdentity& child = message->request.child;
  if (child.kill_on_parent_death) {
    // After the handed-over objects, where the build uses lifelines.
    const int lifeline =
        kUseLifeline
            ? kFirstHandoverFd + static_cast<int>(message->handovers.size())
            : -1;
    EndWithParent(static_cast<pid_t>(child.parent_pid),
                  message->started_by_main_thread, AdoptLifeline(lifeline));
  }
  RunChildAndExit(backend, message->request, std::move(resources->listener),
                  std::move(resources->handovers));
}

}  // namespace mproc::posix
