// POSIX only: owned descriptors and the process-wide registry of them.
#include "backends/posix/posix_fd.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "api/fork_safety.h"
#include "backends/posix/lock_free_int_set.h"

namespace mproc::posix {
namespace {

constinit LockFreeIntSet registered_descriptors;

// Shared by DescriptorChange, exclusive around fork.
ABSL_CONST_INIT absl::Mutex fork_exclusion(absl::kConstInit);

}  // namespace

DescriptorChange::DescriptorChange() {
  const int saved = errno;
  fork_exclusion.ReaderLock();
  errno = saved;
}

DescriptorChange::~DescriptorChange() {
  const int saved = errno;
  fork_exclusion.ReaderUnlock();
  errno = saved;
}

Fd::Fd(int fd) : fd_(fd), owner_(getpid()) {
  if (fd_ >= 0) registered_descriptors.Insert(fd_);
}

Fd::Fd(Fd&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), owner_(other.owner_) {}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = std::exchange(other.fd_, -1);
    owner_ = other.owner_;
  }
  return *this;
}

bool Fd::owned_here() const { return fd_ >= 0 && owner_ == getpid(); }

void Fd::Reset() {
  if (fd_ < 0) return;
  const int fd = std::exchange(fd_, -1);
  if (owner_ != getpid()) return;  // a forked child's copy: already closed
  const DescriptorChange change;
  registered_descriptors.Erase(fd);
  CloseDescriptor(fd);
}

void Fd::Adopt() { owner_ = getpid(); }

void CloseDescriptor(int fd) {
  if (fd >= 0) (void)close(fd);  // Linux frees the descriptor even on EINTR
}

void CloseDescriptorsFrom(int first, int end) {
#if MPROC_POSIX_HAVE_CLOSE_RANGE
  if (syscall(SYS_close_range, first, ~0U, 0) == 0) return;
#endif
  // POSIX: a bounded loop.
  if (end <= 0) end = DescriptorLimit();
  for (int fd = first; fd < end; ++fd) CloseDescriptor(fd);
}

int DescriptorLimit() {
  const long limit = sysconf(_SC_OPEN_MAX);
  return limit > 0 && limit < INT_MAX ? static_cast<int>(limit) : 1024;
}

void HoldDescriptorsForFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  fork_exclusion.Lock();
}

void ReleaseDescriptorsAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  fork_exclusion.Unlock();
}

void ResetDescriptorsInChild() {
  // Held by this thread, the only one here (api/fork_safety.h).
  ResetMutexInForkedChild(fork_exclusion);
}

void CloseInheritedDescriptors(gsl::span<const int> keep) {
  (void)registered_descriptors.ForEachMaybeErase([keep](int64_t fd) {
    if (std::find(keep.begin(), keep.end(), fd) != keep.end()) return false;
    CloseDescriptor(static_cast<int>(fd));
    return true;
  });
}

}  // namespace mproc::posix
