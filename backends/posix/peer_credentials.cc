// POSIX only: the peer of a Unix-domain socket (SO_PEERCRED, getpeereid).
#include "backends/posix/peer_credentials.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "backends/posix/posix_errors.h"

namespace mproc::posix {

constexpr char kAdvice[] = "cannot tell who is at the other end of the socket";

absl::StatusOr<PeerCredentials> GetPeerCredentials(int fd) {
#if MPROC_POSIX_HAVE_SO_PEERCRED
  ucred peer{};
  socklen_t size = sizeof(peer);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) {
    return ErrnoStatus(errno, "getsockopt(SO_PEERCRED)", kAdvice);
  }
  return PeerCredentials{.uid = peer.uid, .pid = peer.pid};
#elif MPROC_POSIX_HAVE_GETPEEREID
  uid_t uid = 0;
  gid_t gid = 0;
  if (getpeereid(fd, &uid, &gid) != 0) {
    return ErrnoStatus(errno, "getpeereid", kAdvice);
  }
  return PeerCredentials{.uid = uid};
#else
  (void)fd;
  return absl::UnimplementedError(
      "this platform cannot tell a socket's peer (no SO_PEERCRED or "
      "getpeereid)");
#endif
}

}  // namespace mproc::posix
