// POSIX only: the "spawn" start method, child side (read request, run, exit).
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/wire.h"
#include "backends/posix/child_side.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"
#include "backends/posix/posix_launch.h"
#include "backends/posix/posix_shared.h"
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
  ucred peer{};
  socklen_t size = sizeof(peer);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) {
    return ErrnoStatus(errno, "getsockopt(SO_PEERCRED)", kNotByHand);
  }
  if (peer.pid != getppid()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the launch request on descriptor ", fd, " comes from process ",
        peer.pid, ", not from this process's parent ", getppid(),
        " (or the parent has died); ", kNotByHand));
  }
  return absl::OkStatus();
}

// Reads exactly `out.size()` bytes from `fd`.
absl::Status ReadExactly(int fd, std::string& out) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = read(fd, out.data() + done, out.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n == 0) {
      return absl::InvalidArgumentError(
          "the launch request ended early (the parent died?)");
    } else if (errno != EINTR) {
      return ErrnoStatus(errno, "read(launch request)", "");
    }
  }
  return absl::OkStatus();
}

struct HandoverEntry {
  PosixShared::Kind kind;
  size_t size;
};

struct SpawnMessage {
  bool started_by_main_thread = false;
  LaunchRequest request;
  std::string listener_address;
  std::vector<HandoverEntry> handovers;
};

absl::StatusOr<SpawnMessage> ReadMessage(int fd) {
  std::string header(8, '\0');
  if (absl::Status s = ReadExactly(fd, header); !s.ok()) return s;
  absl::StatusOr<uint64_t> size = ByteReader(header).GetFixed64();
  if (!size.ok()) return size.status();
  if (*size > kMaxRequestBytes) {
    return absl::InvalidArgumentError("the launch request is too large");
  }
  std::string body(*size, '\0');
  if (absl::Status s = ReadExactly(fd, body); !s.ok()) return s;
  ByteReader in(body);
  SpawnMessage message;
  absl::StatusOr<bool> main_thread = in.GetBool();
  if (!main_thread.ok()) return main_thread.status();
  message.started_by_main_thread = *main_thread;
  absl::StatusOr<absl::string_view> encoded = in.GetBytes();
  if (!encoded.ok()) return encoded.status();
  absl::StatusOr<LaunchRequest> request = DecodeLaunchRequest(*encoded);
  if (!request.ok()) return request.status();
  message.request = *std::move(request);
  absl::StatusOr<absl::string_view> address = in.GetBytes();
  if (!address.ok()) return address.status();
  message.listener_address = std::string(*address);
  absl::StatusOr<uint64_t> count = in.GetCount(2);
  if (!count.ok()) return count.status();
  if (*count > kMaxHandovers) {
    return absl::InvalidArgumentError("too many handed-over objects");
  }
  for (uint64_t i = 0; i < *count; ++i) {
    absl::StatusOr<uint64_t> kind = in.GetVarint();
    if (!kind.ok()) return kind.status();
    absl::StatusOr<uint64_t> size = in.GetVarint();
    if (!size.ok()) return size.status();
    if (*kind > static_cast<uint64_t>(PosixShared::Kind::kSemaphore)) {
      return absl::InvalidArgumentError("unknown handed-over object kind");
    }
    message.handovers.push_back(
        {static_cast<PosixShared::Kind>(*kind), static_cast<size_t>(*size)});
  }
  if (absl::Status end = in.ExpectEnd(); !end.ok()) return end;
  return message;
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
  absl::StatusOr<SpawnMessage> message = ReadMessage(fd);
  CloseDescriptor(fd);
  if (!message.ok()) {
    FailLaunch(absl::Status(
        message.status().code(),
        absl::StrCat(message.status().message(),
                     "; parent and child must be the same build of the "
                     "program")));
  }
  const ChildIdentity& child = message->request.child;
  if (child.kill_on_parent_death) {
    EndWithParent(static_cast<pid_t>(child.parent_pid),
                  message->started_by_main_thread);
  }
  std::shared_ptr<Listener> listener;
  if (!message->listener_address.empty()) {
    listener = AdoptUnixListener(kListenerFd, message->listener_address);
  }
  // Descriptor 4 was not dup2'd over when there is no listener: whatever
  // was inherited there is not this child's.
  if (listener == nullptr && !message->handovers.empty()) {
    CloseDescriptor(kListenerFd);
  }
  std::vector<std::shared_ptr<SharedObject>> handovers;
  for (size_t i = 0; i < message->handovers.size(); ++i) {
    absl::StatusOr<std::shared_ptr<SharedObject>> object = AdoptPosixShared(
        message->handovers[i].kind, kFirstHandoverFd + static_cast<int>(i),
        message->handovers[i].size);
    if (!object.ok()) FailLaunch(object.status());
    handovers.push_back(*std::move(object));
  }
  RunChildAndExit(backend, message->request, std::move(listener),
                  std::move(handovers));
}

}  // namespace mproc::posix
