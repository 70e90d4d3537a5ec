// -----------------------------------------------------------------------------
// File: backends/posix/spawn_protocol.h
// -----------------------------------------------------------------------------
//
// POSIX only: what a parent hands a child it starts with posix_spawn, shared
// by both sides. The command line is `<program> --mproc-child=3`; descriptor 3
// carries a fixed64 length, then a message: bool started_by_main_thread,
// bytes EncodeLaunchRequest(request), bytes listener address ("" for none),
// varint n, then n times (varint kind, varint size): the handover table
// (posix_shared.h). A Manager server's listening socket is descriptor 4; the
// handover table's descriptors are 5, 6, ... in table order.

#ifndef MPROC_BACKENDS_POSIX_SPAWN_PROTOCOL_H_
#define MPROC_BACKENDS_POSIX_SPAWN_PROTOCOL_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace mproc::posix {

inline constexpr absl::string_view kChildFlag = "--mproc-child=";
inline constexpr int kRequestFd = 3;
inline constexpr int kListenerFd = 4;
inline constexpr int kFirstHandoverFd = 5;
// More handed-over objects than this is refused (a corrupt count).
inline constexpr uint64_t kMaxHandovers = 4096;
// A request larger than this is refused (a corrupt length, not a target).
inline constexpr uint64_t kMaxRequestBytes = uint64_t{1} << 30;

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_SPAWN_PROTOCOL_H_
