// -----------------------------------------------------------------------------
// File: backends/posix/forkserver_protocol.h
// -----------------------------------------------------------------------------
//
// POSIX only: what a program and its fork server (posix:forkserver) say to
// each other, shared by both sides. The server is this program started again
// with the command line `<program> --mproc-forkserver=3`; descriptor 3 is its
// end of the control socket (SOCK_SEQPACKET).
//
// Each Start opens a channel (a SOCK_STREAM socketpair) and sends the server
// one control message: one byte of ControlFlags, and SCM_RIGHTS with the
// channel's far end, then the parent's stdin, stdout and stderr (each only
// when open) and a Manager server's listener (when there is one), in that
// order. The server forks a child for it and answers on the channel:
//
//   server -> parent  Reply: int64 pid (or -errno when fork failed), with
//                     SCM_RIGHTS [pidfd of the child] when the kernel has
//                     pidfds; later Status: int32 kind, int32 value, sent
//                     once the server has reaped the child; then it closes
//                     the channel.
//   parent -> child   the spawn message (spawn_protocol.h), then one byte
//                     kGo once the parent has the Reply. A child whose
//                     channel ends before kGo exits without running anything
//                     (its parent gave up on it).
//
// In the child the channel is descriptor 3 (kRequestFd) and the listener 4
// (kListenerFd), as for posix:spawn.

#ifndef MPROC_BACKENDS_POSIX_FORKSERVER_PROTOCOL_H_
#define MPROC_BACKENDS_POSIX_FORKSERVER_PROTOCOL_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace mproc::posix {

inline constexpr absl::string_view kForkServerFlag = "--mproc-forkserver=";
inline constexpr int kControlFd = 3;

// Bits of the control message's byte: which descriptors follow the channel.
enum ControlFlags : uint8_t {
  kHasStdin = 1 << 0,
  kHasStdout = 1 << 1,
  kHasStderr = 1 << 2,
  kHasListener = 1 << 3,
};
// At most: channel, three standard streams, listener.
inline constexpr int kMaxControlFds = 5;

inline constexpr char kGo = 'g';

// Status kinds.
inline constexpr int32_t kExitedKind = 1;
inline constexpr int32_t kSignaledKind = 2;

struct ForkServerStatus {
  int32_t kind = 0;
  int32_t value = 0;
};

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_FORKSERVER_PROTOCOL_H_
