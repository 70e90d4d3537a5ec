// -----------------------------------------------------------------------------
// File: backends/posix/spawn_protocol.h
// -----------------------------------------------------------------------------
//
// POSIX only: what a parent hands a child it starts by re-executing itself
// (posix:spawn) or through the fork server (posix:forkserver), shared by both
// sides. For posix:spawn the command line is `<program> --mproc-child=3`; in
// both cases descriptor 3 carries the spawn message: a fixed64 length, then
// bool started_by_main_thread, bytes EncodeLaunchRequest(request), bytes
// listener address ("" for none), varint n, then n times (varint kind, varint
// size): the handover table (posix_shared.h). A Manager server's listening
// socket is descriptor 4; the handover table's descriptors are 5, 6, ... in
// table order (posix:spawn dup2s them there, the fork server installs them
// there in the child it forks).

#ifndef MPROC_BACKENDS_POSIX_SPAWN_PROTOCOL_H_
#define MPROC_BACKENDS_POSIX_SPAWN_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/backend.h"
#include "api/shared_object.h"
#include "backends/posix/posix_shared.h"
#include "gsl/span"

namespace mproc::posix {

inline constexpr absl::string_view kChildFlag = "--mproc-child=";
inline constexpr int kRequestFd = 3;
inline constexpr int kListenerFd = 4;
inline constexpr int kFirstHandoverFd = 5;
// More handed-over objects than this is refused (a corrupt count).
inline constexpr uint64_t kMaxHandovers = 4096;
// A request larger than this is refused (a corrupt length, not a target).
inline constexpr uint64_t kMaxRequestBytes = uint64_t{1} << 30;

// One entry of the handover table as the spawn message lists it.
struct HandoverEntry {
  PosixShared::Kind kind = PosixShared::Kind::kMemory;
  size_t size = 0;
};

// One decoded spawn message.
struct SpawnMessage {
  bool started_by_main_thread = false;
  LaunchRequest request;
  std::string listener_address;
  std::vector<HandoverEntry> handovers;
};

// Parent side: the posix views of `request.handovers`, in table order, to be
// handed to the child on kFirstHandoverFd, kFirstHandoverFd + 1, ...
// `kInvalidArgument` for an object another backend made, or more than
// kMaxHandovers objects (hand the child fewer shared-state objects).
[[nodiscard]] absl::StatusOr<std::vector<PosixShared*>> HandoversToSend(
    const LaunchRequest& request);

// The descriptors of `handovers`, same order.
std::vector<int> HandoverFds(gsl::span<PosixShared* const> handovers);

// The spawn message for `request` (length prefix included), listing
// `handovers` (HandoversToSend). `kInvalidArgument` when the target is not
// registered (EncodeLaunchRequest's error).
[[nodiscard]] absl::StatusOr<std::string> EncodeSpawnMessage(
    const LaunchRequest& request, bool started_by_main_thread,
    absl::string_view listener_address,
    gsl::span<PosixShared* const> handovers);

// Reads one spawn message from `fd` (blocking). `kInvalidArgument` when it
// is malformed, too large or cut short (the parent died); read's errors.
[[nodiscard]] absl::StatusOr<SpawnMessage> ReadSpawnMessage(int fd);

// What a child started with a spawn message holds besides the request.
struct ChildResources {
  std::shared_ptr<Listener> listener;  // null when it serves no Manager
  std::vector<std::shared_ptr<SharedObject>> handovers;
};

// Child side, shared by posix:spawn and posix:forkserver: adopts the Manager
// listener on kListenerFd (closing that descriptor when `message` names
// none) and rebuilds the handover table from kFirstHandoverFd on.
// `kInvalidArgument` when a handed-over descriptor is missing or not what
// the message says (parent and child are different builds).
[[nodiscard]] absl::StatusOr<ChildResources> AdoptChildResources(
    const SpawnMessage& message);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_SPAWN_PROTOCOL_H_
