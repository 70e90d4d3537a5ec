// POSIX only: the spawn message, both sides (spawn_protocol.h).
#include "backends/posix/spawn_protocol.h"

#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/wire.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"
#include "backends/posix/unix_socket_transport.h"

namespace mproc::posix {
namespace {

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

}  // namespace

absl::StatusOr<std::vector<PosixShared*>> HandoversToSend(
    const LaunchRequest& request) {
  absl::StatusOr<std::vector<PosixShared*>> handovers =
      PosixHandovers(request.handovers);
  if (!handovers.ok()) return handovers.status();
  if (handovers->size() > kMaxHandovers) {
    return absl::InvalidArgumentError(
        absl::StrCat("a child can be handed at most ", kMaxHandovers,
                     " shared-state objects, not ", handovers->size(),
                     "; pass it fewer Locks, Values, ... (or share them "
                     "through one Array)"));
  }
  return handovers;
}

std::vector<int> HandoverFds(gsl::span<PosixShared* const> handovers) {
  std::vector<int> fds;
  fds.reserve(handovers.size());
  for (const PosixShared* object : handovers) fds.push_back(object->fd());
  return fds;
}

absl::StatusOr<std::string> EncodeSpawnMessage(
    const LaunchRequest& request, bool started_by_main_thread,
    absl::string_view listener_address,
    gsl::span<PosixShared* const> handovers) {
  absl::StatusOr<std::string> encoded = EncodeLaunchRequest(request);
  if (!encoded.ok()) return encoded.status();
  ByteWriter body;
  body.PutBool(started_by_main_thread);
  body.PutBytes(*encoded);
  body.PutBytes(listener_address);
  body.PutVarint(handovers.size());
  for (const PosixShared* object : handovers) {
    body.PutVarint(static_cast<uint64_t>(object->kind()));
    body.PutVarint(object->size());
  }
  ByteWriter message;
  message.PutFixed64(body.data().size());
  return message.Release() + body.Release();
}

absl::StatusOr<SpawnMessage> ReadSpawnMessage(int fd) {
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
    if (*kind > static_cast<uint64_t>(PosixShared::kLastKind)) {
      return absl::InvalidArgumentError("unknown handed-over object kind");
    }
    message.handovers.push_back(
        {static_cast<PosixShared::Kind>(*kind), static_cast<size_t>(*size)});
  }
  if (absl::Status end = in.ExpectEnd(); !end.ok()) return end;
  return message;
}

absl::StatusOr<ChildResources> AdoptChildResources(
    const SpawnMessage& message) {
  ChildResources resources;
  if (!message.listener_address.empty()) {
    resources.listener =
        AdoptUnixListener(kListenerFd, message.listener_address);
  } else {
    // Not dup2'd over: whatever was inherited there is not this child's.
    CloseDescriptor(kListenerFd);
  }
  for (size_t i = 0; i < message.handovers.size(); ++i) {
    absl::StatusOr<std::shared_ptr<SharedObject>> object = AdoptPosixShared(
        message.handovers[i].kind, kFirstHandoverFd + static_cast<int>(i),
        message.handovers[i].size);
    if (!object.ok()) return object.status();
    resources.handovers.push_back(*std::move(object));
  }
  return resources;
}

}  // namespace mproc::posix
