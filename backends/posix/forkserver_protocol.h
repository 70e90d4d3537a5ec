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
// one control message: a ControlHeader (ControlFlags, and the number n of
// handed-over objects), and SCM_RIGHTS with the channel's far end, then the
// parent's stdin, stdout and stderr (each only when open), a Manager server's
// listener (when there is one) and the n descriptors of the handover table
// (LaunchRequest::handovers, posix_shared.h), in that order. One message
// carries at most kMaxFdsPerMessage descriptors (the kernel's SCM_MAX_FD):
// the handover descriptors that do not fit follow in continuation messages,
// each the one byte kMoreHandovers and SCM_RIGHTS with up to
// kMaxFdsPerMessage of them, in table order. A parent sends one Start's
// messages back to back (no other Start's in between); the server drops a
// Start whose continuations are cut short by the next ControlHeader (the
// parent's sendmsg failed half way), closing its channel without a reply.
// n is at most kMaxHandovers (spawn_protocol.h). Once it has every
// descriptor, the server forks a child for the Start and answers on the
// channel:
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
// In the child the channel is descriptor 3 (kRequestFd), the listener 4
// (kListenerFd) and the handover table 5, 6, ... (kFirstHandoverFd), as for
// posix:spawn; the child rebuilds the table from the spawn message.

#ifndef MPROC_BACKENDS_POSIX_FORKSERVER_PROTOCOL_H_
#define MPROC_BACKENDS_POSIX_FORKSERVER_PROTOCOL_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace mproc::posix {

inline constexpr absl::string_view kForkServerFlag = "--mproc-forkserver=";
inline constexpr int kControlFd = 3;

// Bits of ControlHeader::flags: which descriptors follow the channel.
enum ControlFlags : uint8_t {
  kHasStdin = 1 << 0,
  kHasStdout = 1 << 1,
  kHasStderr = 1 << 2,
  kHasListener = 1 << 3,
};

// The data of a Start's first control message (sent as it is in memory:
// parent and server are the same build).
struct ControlHeader {
  uint8_t flags = 0;  // ControlFlags
  uint8_t reserved[3] = {};
  uint32_t handovers = 0;  // n
};
static_assert(sizeof(ControlHeader) == 8);

// The data of a continuation message.
inline constexpr char kMoreHandovers = 'h';

// Besides the handover table: channel, three standard streams, listener.
inline constexpr int kMaxControlFds = 5;
// Descriptors one SCM_RIGHTS message can carry (Linux's SCM_MAX_FD).
inline constexpr int kMaxFdsPerMessage = 253;

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
