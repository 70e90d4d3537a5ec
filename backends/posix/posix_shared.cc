// POSIX only: shared memory and process-shared semaphores (posix_shared.h).
#include "backends/posix/posix_shared.h"

#include <fcntl.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/fork_safety.h"
#include "backends/posix/posix_channel.h"
#include "backends/posix/posix_child.h"
#include "backends/posix/posix_errors.h"
#include "backends/posix/posix_fd.h"

namespace mproc::posix {
namespace {

constexpr absl::string_view kFdAdvice =
    "raise the descriptor limit (ulimit -n) or close descriptors";
constexpr absl::string_view kMemoryAdvice =
    "free memory, or raise the limit on locked/shared memory";

// memfd_create, or -1 with ENOSYS where the build has none.
int MemfdCreate() {
#if MPROC_POSIX_HAVE_MEMFD_CREATE
  return memfd_create("mproc-shared", MFD_CLOEXEC);
#else
  errno = ENOSYS;
  return -1;
#endif
}

// A memfd (or an unlinked POSIX shared memory object) of `size` bytes.
absl::StatusOr<Fd> CreateSharedFd(size_t size) {
  Fd fd = Fd::Open(MemfdCreate);
  if (!fd.valid() && errno == ENOSYS) {
    // The portable path: a fresh name, unlinked at once, so nothing outlives
    // the descriptors and mappings.
    static std::atomic<uint64_t> counter{0};
    const std::string name =
        absl::StrCat("/mproc-", getpid(), "-", counter.fetch_add(1), "-",
                     absl::ToUnixNanos(ForkSafeNow()));
    fd = Fd::Open([&name] {
      return shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
                      0600);
    });
    if (fd.valid()) (void)shm_unlink(name.c_str());
  }
  if (!fd.valid()) return ErrnoStatus(errno, "memfd_create", kFdAdvice);
  if (RetryOnEintr(
          [&] { return ftruncate(fd.get(), static_cast<off_t>(size)); }) != 0) {
    return ErrnoStatus(errno, "ftruncate(shared memory)", kMemoryAdvice);
  }
  return fd;
}

// One MAP_SHARED mapping of a descriptor this object owns.
class Mapping {
 public:
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (address_ != nullptr) (void)munmap(address_, size_);
  }

  // Maps `size` bytes of `fd`.
  [[nodiscard]] absl::Status Map(Fd fd, size_t size) {
    void* address =
        mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (address == MAP_FAILED) {
      return ErrnoStatus(errno, "mmap(shared memory)", kMemoryAdvice);
    }
    fd_ = std::move(fd);
    address_ = address;
    size_ = size;
    return absl::OkStatus();
  }

  std::byte* data() const { return static_cast<std::byte*>(address_); }
  size_t size() const { return size_; }
  int fd() const { return fd_.owned_here() ? fd_.get() : -1; }
  void Adopt() { fd_.Adopt(); }

 private:
  Fd fd_;
  void* address_ = nullptr;
  size_t size_ = 0;
};

class PosixSharedMemory final : public SharedMemory, public PosixShared {
 public:
  gsl::span<std::byte> bytes() const override {
    return {mapping_.data(), mapping_.size()};
  }
  Kind kind() const override { return Kind::kMemory; }
  size_t size() const override { return mapping_.size(); }
  int fd() const override { return mapping_.fd(); }
  void AdoptInForkedChild() override { mapping_.Adopt(); }

  Mapping& mapping() { return mapping_; }

 private:
  Mapping mapping_;
};

class PosixSemaphore final : public OsSemaphore, public PosixShared {
 public:
  absl::StatusOr<bool> Acquire(absl::Time deadline) override {
    sem_t* const sem = semaphore();
    int result;
    if (deadline == absl::InfiniteFuture()) {
      result = RetryOnEintr([sem] { return sem_wait(sem); });
    } else if (deadline == absl::InfinitePast()) {
      result = RetryOnEintr([sem] { return sem_trywait(sem); });
      if (result != 0 && errno == EAGAIN) return false;
    } else {
      // A monotonic deadline, so a jump of the wall clock changes nothing.
      const absl::Duration left =
          std::max(deadline - ForkSafeNow(), absl::ZeroDuration());
      timespec now;
      (void)clock_gettime(CLOCK_MONOTONIC, &now);
      const timespec until =
          absl::ToTimespec(absl::DurationFromTimespec(now) + left);
      result = RetryOnEintr(
          [&] { return sem_clockwait(sem, CLOCK_MONOTONIC, &until); });
      if (result != 0 && errno == ETIMEDOUT) return false;
    }
    if (result != 0) {
      return ErrnoStatus(errno, "sem_wait",
                         "the shared semaphore is corrupt; it lives in "
                         "memory every holder can write");
    }
    return true;
  }

  absl::Status Release() override {
    if (sem_post(semaphore()) != 0) {
      if (errno == EOVERFLOW) {
        return absl::OutOfRangeError(absl::StrCat(
            "sem_post: the semaphore's count would exceed ", SEM_VALUE_MAX));
      }
      return ErrnoStatus(errno, "sem_post", "the shared semaphore is corrupt");
    }
    return absl::OkStatus();
  }

  Kind kind() const override { return Kind::kSemaphore; }
  size_t size() const override { return mapping_.size(); }
  int fd() const override { return mapping_.fd(); }
  void AdoptInForkedChild() override { mapping_.Adopt(); }

  Mapping& mapping() { return mapping_; }

 private:
  sem_t* semaphore() const { return reinterpret_cast<sem_t*>(mapping_.data()); }

  Mapping mapping_;
};

// Enough for a sem_t, rounded to a cache line.
constexpr size_t kSemaphoreBytes = (sizeof(sem_t) + 63) / 64 * 64;

}  // namespace

absl::StatusOr<std::shared_ptr<SharedMemory>> CreatePosixSharedMemory(
    size_t size) {
  if (size == 0) {
    return absl::InvalidArgumentError("shared memory of 0 bytes");
  }
  absl::StatusOr<Fd> fd = CreateSharedFd(size);
  if (!fd.ok()) return fd.status();
  auto memory = std::make_shared<PosixSharedMemory>();
  if (absl::Status s = memory->mapping().Map(*std::move(fd), size); !s.ok()) {
    return s;
  }
  return memory;
}

absl::StatusOr<std::shared_ptr<OsSemaphore>> CreatePosixSemaphore(
    uint32_t initial) {
  if (initial > SEM_VALUE_MAX) {
    return absl::OutOfRangeError(absl::StrCat(
        "a semaphore's count is at most ", SEM_VALUE_MAX, ", not ", initial));
  }
  absl::StatusOr<Fd> fd = CreateSharedFd(kSemaphoreBytes);
  if (!fd.ok()) return fd.status();
  auto semaphore = std::make_shared<PosixSemaphore>();
  if (absl::Status s =
          semaphore->mapping().Map(*std::move(fd), kSemaphoreBytes);
      !s.ok()) {
    return s;
  }
  if (sem_init(reinterpret_cast<sem_t*>(semaphore->mapping().data()),
               /*pshared=*/1, initial) != 0) {
    return ErrnoStatus(errno, "sem_init(pshared)",
                       "this system has no process-shared semaphores");
  }
  return semaphore;
}

absl::StatusOr<std::shared_ptr<SharedObject>> AdoptPosixShared(
    PosixShared::Kind kind, int fd, size_t size) {
  if (kind == PosixShared::Kind::kChannel) {
    absl::StatusOr<std::shared_ptr<ChannelEnd>> end = AdoptPosixChannelEnd(fd);
    if (!end.ok()) return end.status();
    return std::shared_ptr<SharedObject>(*std::move(end));
  }
  Fd owned(fd);
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) ||
      static_cast<size_t>(info.st_size) < size || size == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "descriptor ", fd, " is not the shared memory of ", size,
        " bytes the launch request names; parent and child must be the same "
        "build of the program"));
  }
  switch (kind) {
    case PosixShared::Kind::kMemory: {
      auto memory = std::make_shared<PosixSharedMemory>();
      if (absl::Status s = memory->mapping().Map(std::move(owned), size);
          !s.ok()) {
        return s;
      }
      return memory;
    }
    case PosixShared::Kind::kSemaphore: {
      if (size < sizeof(sem_t)) break;
      auto semaphore = std::make_shared<PosixSemaphore>();
      if (absl::Status s = semaphore->mapping().Map(std::move(owned), size);
          !s.ok()) {
        return s;
      }
      return semaphore;
    }
    case PosixShared::Kind::kChannel:
      break;  // adopted above
  }
  return absl::InvalidArgumentError(
      "malformed launch request: unknown shared object kind");
}

absl::StatusOr<std::vector<PosixShared*>> PosixHandovers(
    const std::vector<std::shared_ptr<SharedObject>>& objects) {
  std::vector<PosixShared*> result;
  result.reserve(objects.size());
  for (const std::shared_ptr<SharedObject>& object : objects) {
    auto* posix = dynamic_cast<PosixShared*>(object.get());
    if (posix == nullptr) {
      return absl::InvalidArgumentError(
          "a shared-state object made by another backend was passed to a "
          "posix child; make it with the context that starts the child");
    }
    if (posix->fd() < 0 && posix->kind() == PosixShared::Kind::kChannel) {
      return absl::FailedPreconditionError(
          "handle is closed; a Connection passed to this child was closed in "
          "this process (or reached this forked process inside a closure): "
          "start the child before closing this process's copy");
    }
    if (posix->fd() < 0) {
      return absl::FailedPreconditionError(
          "this process holds a shared-state object without its descriptor "
          "(it reached this forked process inside a closure, not as a target "
          "argument), so it cannot pass it on; pass it as an argument of a "
          "registered target");
    }
    result.push_back(posix);
  }
  return result;
}

bool IsPosixProcessAlive(int64_t pid) {
  if (pid == getpid()) return true;
  if (pid <= 0 || pid > INT_MAX) return false;
  absl::StatusOr<Fd> pidfd = OpenPidfd(static_cast<pid_t>(pid));
  // ESRCH (kNotFound): no such process; any other refusal: cannot tell.
  if (!pidfd.ok()) return !absl::IsNotFound(pidfd.status());
  if (!pidfd->valid()) {  // no pidfd_open here: ask kill()
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
    // kill() reaches a zombie too: if it is our child, ask whether it has
    // ended without reaping it (its own Child reaps it).
    siginfo_t info{};
    return !(waitid(P_PID, static_cast<id_t>(pid), &info,
                    WEXITED | WNOHANG | WNOWAIT) == 0 &&
             info.si_pid == pid);
  }
  pollfd watch{.fd = pidfd->get(), .events = POLLIN, .revents = 0};
  const int ready = RetryOnEintr([&] { return poll(&watch, 1, 0); });
  return !(ready == 1 && (watch.revents & POLLIN) != 0);
}

}  // namespace mproc::posix
