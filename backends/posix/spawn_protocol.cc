// POSIX only: the spawn message, both sides (spawn_protocol.h).
#include "backends/posix/spawn_protocol.h"

#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "api/wire.h"
#include "backends/posix/posix_errors.h"

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

absl::StatusOr<std::string> EncodeSpawnMessage(
    const LaunchRequest& request, bool started_by_main_thread,
    absl::string_view listener_address) {
  absl::StatusOr<std::string> encoded = EncodeLaunchRequest(request);
  if (!encoded.ok()) return encoded.status();
  ByteWriter body;
  body.PutBool(started_by_main_thread);
  body.PutBytes(*encoded);
  body.PutBytes(listener_address);
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
  if (absl::Status end = in.ExpectEnd(); !end.ok()) return end;
  return message;
}

}  // namespace mproc::posix
