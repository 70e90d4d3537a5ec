// POSIX only: SIGCHLD as a descriptor (signalfd, or a self-pipe).
#include "backends/posix/child_ended_fd.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#if MPROC_POSIX_HAVE_SIGNALFD
#include <sys/signalfd.h>
#endif

#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"

namespace mproc::posix {
namespace {

constexpr char kAdvice[] = "raise the descriptor limit";

// The descriptor polled; for the self-pipe also its write end.
int read_end = -1;
int write_end = -1;

#if MPROC_POSIX_HAVE_SIGNALFD

absl::Status Open() {
  sigset_t child_ended;
  sigemptyset(&child_ended);
  sigaddset(&child_ended, SIGCHLD);
  (void)sigprocmask(SIG_BLOCK, &child_ended, nullptr);
  read_end = signalfd(-1, &child_ended, SFD_CLOEXEC | SFD_NONBLOCK);
  if (read_end < 0) return ErrnoStatus(errno, "signalfd", kAdvice);
  return absl::OkStatus();
}

#else  // a self-pipe

void OnChildEnded(int) {
  const int saved = errno;
  const char byte = 0;
  (void)write(write_end, &byte, 1);  // full: it is readable already
  errno = saved;
}

// Both ends non-blocking and close-on-exec (pipe2 is not POSIX.1-2008).
bool SetFlags(int fd) {
  return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 &&
         fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0;
}

absl::Status Open() {
  int ends[2];
  if (pipe(ends) != 0) return ErrnoStatus(errno, "pipe", kAdvice);
  if (!SetFlags(ends[0]) || !SetFlags(ends[1])) {
    const int error = errno;
    CloseDescriptor(ends[0]);
    CloseDescriptor(ends[1]);
    return ErrnoStatus(error, "fcntl(self-pipe)", kAdvice);
  }
  read_end = ends[0];
  write_end = ends[1];
  struct sigaction action {};
  action.sa_handler = &OnChildEnded;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  if (sigaction(SIGCHLD, &action, nullptr) != 0) {
    return ErrnoStatus(errno, "sigaction(SIGCHLD)", kAdvice);
  }
  return absl::OkStatus();
}

#endif

}  // namespace

absl::Status OpenChildEndedFd() {
  if (read_end >= 0) return absl::OkStatus();
  return Open();
}

int ChildEndedFd() { return read_end; }

void DrainChildEndedFd() {
  char drained[256];  // signalfd_siginfo is 128 bytes: whole records
  while (read(read_end, drained, sizeof(drained)) > 0) {
  }
}

void CloseChildEndedFdInChild() {
  CloseDescriptor(read_end);
  CloseDescriptor(write_end);
  read_end = write_end = -1;
}

}  // namespace mproc::posix
