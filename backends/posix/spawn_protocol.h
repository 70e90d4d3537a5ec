// -----------------------------------------------------------------------------
// File: backends/posix/spawn_protocol.h
// -----------------------------------------------------------------------------
//
// POSIX only: what a parent hands a child it starts by re-executing itself
// (posix:spawn) or through the fork server (posix:forkserver), shared by both
// sides. For posix:spawn the command line is `<program> --mproc-child=3`; in
// both cases descriptor 3 carries the spawn message: a fixed64 length, then
// bool started_by_main_thread, bytes EncodeLaunchRequest(request), bytes
// listener address ("" for none). A Manager server's listening socket is
// descriptor 4.

#ifndef MPROC_BACKENDS_POSIX_SPAWN_PROTOCOL_H_
#define MPROC_BACKENDS_POSIX_SPAWN_PROTOCOL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/backend.h"

namespace mproc::posix {

inline constexpr absl::string_view kChildFlag = "--mproc-child=";
inline constexpr int kRequestFd = 3;
inline constexpr int kListenerFd = 4;
// A request larger than this is refused (a corrupt length, not a target).
inline constexpr uint64_t kMaxRequestBytes = uint64_t{1} << 30;

// One decoded spawn message.
struct SpawnMessage {
  bool started_by_main_thread = false;
  LaunchRequest request;
  std::string listener_address;
};

// The spawn message for `request` (length prefix included). `kInvalidArgument`
// when the target is not registered (EncodeLaunchRequest's error).
[[nodiscard]] absl::StatusOr<std::string> EncodeSpawnMessage(
    const LaunchRequest& request, bool started_by_main_thread,
    absl::string_view listener_address);

// Reads one spawn message from `fd` (blocking). `kInvalidArgument` when it
// is malformed, too large or cut short (the parent died); read's errors.
[[nodiscard]] absl::StatusOr<SpawnMessage> ReadSpawnMessage(int fd);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_SPAWN_PROTOCOL_H_
