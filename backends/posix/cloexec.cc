// POSIX only: close-on-exec sockets (see cloexec.h).
#include "backends/posix/cloexec.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mproc::posix {
namespace {

// Sets FD_CLOEXEC (and O_NONBLOCK when asked) on the new descriptor `fd`; on
// failure closes it and returns -1 with fcntl's errno.
[[maybe_unused]] int Finish(int fd, bool non_blocking) {
  if (fd < 0) return fd;
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
      (non_blocking &&
       fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)) {
    const int error = errno;
    (void)close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

}  // namespace

int SocketCloexec(int domain, int type, bool non_blocking) {
#if MPROC_POSIX_HAVE_SOCK_CLOEXEC
  return socket(domain,
                type | SOCK_CLOEXEC | (non_blocking ? SOCK_NONBLOCK : 0), 0);
#else
  return Finish(socket(domain, type, 0), non_blocking);
#endif
}

int SocketPairCloexec(int domain, int type, int ends[2]) {
#if MPROC_POSIX_HAVE_SOCK_CLOEXEC
  return socketpair(domain, type | SOCK_CLOEXEC, 0, ends);
#else
  if (socketpair(domain, type, 0, ends) != 0) return -1;
  for (int i = 0; i < 2; ++i) {
    if (Finish(ends[i], false) < 0) {  // Finish closed ends[i]
      const int error = errno;
      (void)close(ends[1 - i]);
      errno = error;
      return -1;
    }
  }
  return 0;
#endif
}

int AcceptCloexec(int listener) {
#if MPROC_POSIX_HAVE_ACCEPT4
  return accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
#else
  return Finish(accept(listener, nullptr, nullptr), false);
#endif
}

ssize_t RecvmsgCloexec(int fd, msghdr* message, int flags) {
#if MPROC_POSIX_HAVE_MSG_CMSG_CLOEXEC
  return recvmsg(fd, message, flags | MSG_CMSG_CLOEXEC);
#else
  const ssize_t n = recvmsg(fd, message, flags);
  if (n < 0) return n;
  for (cmsghdr* header = CMSG_FIRSTHDR(message); header != nullptr;
       header = CMSG_NXTHDR(message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    const size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int received;
      std::memcpy(&received, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
      (void)fcntl(received, F_SETFD, FD_CLOEXEC);
    }
  }
  return n;
#endif
}

}  // namespace mproc::posix
