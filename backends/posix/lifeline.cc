// POSIX only: the lifeline pipe (a parent's end felt by its children).
#include "backends/posix/lifeline.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <utility>

#include "backends/posix/posix_errors.h"

namespace mproc::posix {
namespace {

struct Lifeline {
  Fd read_end;
  Fd write_end;
};

// Made once per process and never destroyed: the write end closes when the
// process ends, which is the point. Lock-free, so a forked child never
// inherits a held lock.
constinit std::atomic<Lifeline*> current{nullptr};

absl::StatusOr<Lifeline*> Make() {
  auto [read_end, write_end] = Fd::OpenPair([](int ends[2]) {
    if (pipe(ends) != 0) return -1;
    // pipe2(O_CLOEXEC) is not POSIX.1-2008: set right after, before the
    // registration lets a fork see them (no exec can run in between).
    (void)fcntl(ends[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(ends[1], F_SETFD, FD_CLOEXEC);
    return 0;
  });
  if (!read_end.valid()) {
    return ErrnoStatus(errno, "pipe(lifeline)",
                       "raise the descriptor limit (ulimit -n) or close "
                       "descriptors");
  }
  auto* made = new Lifeline{std::move(read_end), std::move(write_end)};
  Lifeline* expected = nullptr;
  if (!current.compare_exchange_strong(expected, made,
                                       std::memory_order_acq_rel)) {
    delete made;  // another thread made one first
    return expected;
  }
  return made;
}

}  // namespace

void PrepareLifeline() {
  if (kUseLifeline) (void)LifelineForChild();
}

absl::StatusOr<int> LifelineForChild() {
  if (!kUseLifeline) return -1;
  Lifeline* lifeline = current.load(std::memory_order_acquire);
  if (lifeline == nullptr) {
    absl::StatusOr<Lifeline*> made = Make();
    if (!made.ok()) return made.status();
    lifeline = *made;
  }
  return lifeline->read_end.get();
}

Fd LifelineInForkedChild(int kept) {
  // The parent's: its write end is closed here already, and the object is
  // dropped without destruction (Fd closes nothing it does not own).
  Lifeline* parent = current.exchange(nullptr, std::memory_order_acq_rel);
  if (kept < 0 || parent == nullptr || parent->read_end.get() != kept) {
    return Fd();
  }
  Fd read_end = std::move(parent->read_end);  // still registered: kept
  read_end.Adopt();
  return read_end;
}

Fd AdoptLifeline(int fd) {
  if (fd < 0) return Fd();
  (void)fcntl(fd, F_SETFD, FD_CLOEXEC);  // dup2 cleared it
  return Fd(fd);
}

}  // namespace mproc::posix
