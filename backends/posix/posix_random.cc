#include "backends/posix/posix_random.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#if MPROC_POSIX_HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"

namespace mproc::posix {
namespace {

constexpr char kAdvice[] = "the kernel's secure random source is unavailable";

#if !MPROC_POSIX_HAVE_GETRANDOM && !MPROC_POSIX_HAVE_ARC4RANDOM_BUF
// /dev/urandom, opened for this call alone (registered, so a concurrent fork
// does not hand it to a child).
absl::Status ReadDevUrandom(gsl::span<char> out, bool nonblocking) {
  const int flags = O_RDONLY | O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0);
  Fd source = Fd::Open([&] { return open("/dev/urandom", flags); });
  if (source.get() < 0)
    return ErrnoStatus(errno, "open(/dev/urandom)", kAdvice);
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = read(source.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return ErrnoStatus(n < 0 ? errno : EIO, "read(/dev/urandom)", kAdvice);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}
#endif

}  // namespace

absl::Status FillSecureRandom(gsl::span<char> out, bool nonblocking) {
#if MPROC_POSIX_HAVE_GETRANDOM
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = getrandom(out.data() + done, out.size() - done,
                                nonblocking ? GRND_NONBLOCK : 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "getrandom", kAdvice);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
#elif MPROC_POSIX_HAVE_ARC4RANDOM_BUF
  (void)nonblocking;  // never blocks, never fails
  arc4random_buf(out.data(), out.size());
  return absl::OkStatus();
#else
  return ReadDevUrandom(out, nonblocking);
#endif
}

}  // namespace mproc::posix
