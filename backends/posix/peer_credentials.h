// -----------------------------------------------------------------------------
// File: backends/posix/peer_credentials.h
// -----------------------------------------------------------------------------
//
// POSIX only: who is at the other end of a connected Unix-domain socket.
// SO_PEERCRED where the platform has it (Linux: user and pid), else
// getpeereid(3) (the BSDs, macOS: the user only), else nothing: POSIX.1-2008
// has no such call. Detected at configure time (MPROC_POSIX_HAVE_SO_PEERCRED,
// MPROC_POSIX_HAVE_GETPEEREID); MPROC_POSIX_PORTABLE=ON takes neither.

#ifndef MPROC_BACKENDS_POSIX_PEER_CREDENTIALS_H_
#define MPROC_BACKENDS_POSIX_PEER_CREDENTIALS_H_

#include <sys/types.h>

#include <optional>

#include "absl/status/statusor.h"

namespace mproc::posix {

struct PeerCredentials {
  uid_t uid = 0;
  // The peer's pid, where the OS tells it (SO_PEERCRED): with getpeereid
  // there is none.
  std::optional<pid_t> pid;
};

// The credentials of the peer of connected socket `fd`. `kUnimplemented`
// where the OS has no way to tell (the caller decides what guards it then);
// the OS's refusal otherwise (ENOTSOCK, ENOTCONN, ...).
[[nodiscard]] absl::StatusOr<PeerCredentials> GetPeerCredentials(int fd);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_PEER_CREDENTIALS_H_
