// -----------------------------------------------------------------------------
// File: backends/posix/cloexec.h
// -----------------------------------------------------------------------------
//
// POSIX only: sockets and received descriptors made close-on-exec as they are
// created. Where the platform has SOCK_CLOEXEC, accept4 and MSG_CMSG_CLOEXEC
// (Linux, the BSDs; POSIX.1-2024) the flag is set atomically. Elsewhere (and
// with MPROC_POSIX_PORTABLE=ON) it is set by fcntl right after the call; the
// window in between is closed for mproc's own starts: every one of these
// calls runs inside Fd::Open (a DescriptorChange), and LaunchFork and, without
// atomic close-on-exec, LaunchSpawn hold descriptor changes back around
// fork / posix_spawn (posix_fd.h). A fork+exec of the user's own in another
// thread can still inherit a descriptor made in that window.
//
// Each function returns what the call it wraps returns: a descriptor (or a
// byte count) or -1 with errno set.

#ifndef MPROC_BACKENDS_POSIX_CLOEXEC_H_
#define MPROC_BACKENDS_POSIX_CLOEXEC_H_

#include <sys/socket.h>
#include <sys/types.h>

namespace mproc::posix {

// True where descriptors are created with close-on-exec set atomically.
inline constexpr bool kAtomicCloexec = MPROC_POSIX_HAVE_SOCK_CLOEXEC &&
                                       MPROC_POSIX_HAVE_ACCEPT4 &&
                                       MPROC_POSIX_HAVE_MSG_CMSG_CLOEXEC;

// socket(domain, type, 0), close-on-exec; non-blocking when `non_blocking`.
int SocketCloexec(int domain, int type, bool non_blocking = false);

// socketpair(domain, type, 0, ends), both ends close-on-exec. 0 or -1.
int SocketPairCloexec(int domain, int type, int ends[2]);

// accept(listener, nullptr, nullptr), the connection close-on-exec.
int AcceptCloexec(int listener);

// recvmsg(fd, message, flags), every descriptor received (SCM_RIGHTS)
// close-on-exec.
ssize_t RecvmsgCloexec(int fd, msghdr* message, int flags);

}  // namespace mproc::posix

#endif  // MPROC_BACKENDS_POSIX_CLOEXEC_H_
