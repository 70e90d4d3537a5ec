// Windows only: shared memory and semaphores (windows_shared.h).
#include "backends/windows/windows_shared.h"

#include <climits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/windows/windows_channel.h"

namespace mproc::windows {
namespace {

constexpr absl::string_view kMemoryAdvice =
    "free memory or enlarge the paging file";

// One view of a section, unmapped on destruction.
class View {
 public:
  View() = default;
  View(const View&) = delete;
  View& operator=(const View&) = delete;
  ~View() {
    if (address_ != nullptr) (void)UnmapViewOfFile(address_);
  }

  // Maps `size` bytes of `section` read-write.
  [[nodiscard]] absl::Status Map(Handle section, size_t size) {
    void* address = MapViewOfFile(section.get(), FILE_MAP_ALL_ACCESS, 0, 0,
                                  static_cast<SIZE_T>(size));
    if (address == nullptr) {
      return LastErrorStatus("MapViewOfFile(shared memory)", kMemoryAdvice);
    }
    section_ = std::move(section);
    address_ = address;
    size_ = size;
    return absl::OkStatus();
  }

  std::byte* data() const { return static_cast<std::byte*>(address_); }
  size_t size() const { return size_; }
  HANDLE section() const { return section_.get(); }

 private:
  Handle section_;
  void* address_ = nullptr;
  size_t size_ = 0;
};

class WindowsSharedMemory final : public SharedMemory, public WindowsShared {
 public:
  gsl::span<std::byte> bytes() const override {
    return {view_.data(), view_.size()};
  }
  Kind kind() const override { return Kind::kMemory; }
  size_t size() const override { return view_.size(); }
  HANDLE handle() const override { return view_.section(); }

  View& view() { return view_; }

 private:
  View view_;
};

class WindowsSemaphore final : public OsSemaphore, public WindowsShared {
 public:
  explicit WindowsSemaphore(Handle semaphore)
      : semaphore_(std::move(semaphore)) {}

  absl::StatusOr<bool> Acquire(absl::Time deadline) override {
    while (true) {
      const DWORD result =
          WaitForSingleObject(semaphore_.get(), MillisecondsUntil(deadline));
      if (result == WAIT_OBJECT_0) return true;
      if (result == WAIT_FAILED) {
        return LastErrorStatus("WaitForSingleObject(semaphore)");
      }
      // WAIT_TIMEOUT: a far deadline is waited for in capped steps.
      if (absl::Now() >= deadline) return false;
    }
  }

  absl::Status Release() override {
    if (!ReleaseSemaphore(semaphore_.get(), 1, nullptr)) {
      const DWORD error = GetLastError();
      if (error == ERROR_TOO_MANY_POSTS) {
        return absl::OutOfRangeError(absl::StrCat(
            "ReleaseSemaphore: the semaphore's count would exceed ", LONG_MAX));
      }
      return Win32ErrorToStatus(error, "ReleaseSemaphore");
    }
    return absl::OkStatus();
  }

  Kind kind() const override { return Kind::kSemaphore; }
  size_t size() const override { return 0; }
  HANDLE handle() const override { return semaphore_.get(); }

 private:
  Handle semaphore_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<SharedMemory>> CreateWindowsSharedMemory(
    size_t size) {
  if (size == 0) {
    return absl::InvalidArgumentError("shared memory of 0 bytes");
  }
  const uint64_t size64 = size;
  // Unnamed and backed by the paging file: zero-filled, gone with its last
  // handle and view.
  Handle section(CreateFileMappingW(
      INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE,
      static_cast<DWORD>(size64 >> 32), static_cast<DWORD>(size64), nullptr));
  if (!section.valid()) {
    return LastErrorStatus("CreateFileMappingW(shared memory)", kMemoryAdvice);
  }
  auto memory = std::make_shared<WindowsSharedMemory>();
  // A view starts on the allocation granularity (64 KiB): aligned enough.
  if (absl::Status s = memory->view().Map(std::move(section), size); !s.ok()) {
    return s;
  }
  return memory;
}

absl::StatusOr<std::shared_ptr<OsSemaphore>> CreateWindowsSemaphore(
    uint32_t initial) {
  if (initial > static_cast<uint32_t>(LONG_MAX)) {
    return absl::OutOfRangeError(absl::StrCat("a semaphore's count is at most ",
                                              LONG_MAX, ", not ", initial));
  }
  Handle semaphore(
      CreateSemaphoreW(nullptr, static_cast<LONG>(initial), LONG_MAX, nullptr));
  if (!semaphore.valid()) {
    return LastErrorStatus("CreateSemaphoreW", "close handles");
  }
  return std::make_shared<WindowsSemaphore>(std::move(semaphore));
}

absl::StatusOr<std::shared_ptr<SharedObject>> AdoptWindowsShared(
    WindowsShared::Kind kind, Handle handle, size_t size) {
  const uintptr_t value = reinterpret_cast<uintptr_t>(handle.get());
  const auto refuse = [value](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        "handle ", value, " is not the ", what,
        " the launch request names; parent and child must be the same build "
        "of the program"));
  };
  DWORD flags = 0;
  if (!handle.valid() || !GetHandleInformation(handle.get(), &flags)) {
    return refuse("handle");
  }
  switch (kind) {
    case WindowsShared::Kind::kMemory: {
      if (size == 0) return refuse("shared memory");
      auto memory = std::make_shared<WindowsSharedMemory>();
      // MapViewOfFile refuses a view larger than the section.
      if (absl::Status s = memory->view().Map(std::move(handle), size);
          !s.ok()) {
        return refuse(absl::StrCat("shared memory of ", size, " bytes"));
      }
      return memory;
    }
    case WindowsShared::Kind::kSemaphore:
      return std::make_shared<WindowsSemaphore>(std::move(handle));
    case WindowsShared::Kind::kChannel: {
      absl::StatusOr<std::shared_ptr<ChannelEnd>> end =
          AdoptWindowsChannelEnd(std::move(handle));
      if (!end.ok()) return end.status();
      return std::shared_ptr<SharedObject>(*std::move(end));
    }
  }
  return absl::InvalidArgumentError(
      "malformed launch request: unknown shared object kind");
}

absl::StatusOr<std::vector<const WindowsShared*>> WindowsHandovers(
    const std::vector<std::shared_ptr<SharedObject>>& objects) {
  std::vector<const WindowsShared*> result;
  result.reserve(objects.size());
  for (const std::shared_ptr<SharedObject>& object : objects) {
    const auto* windows = dynamic_cast<const WindowsShared*>(object.get());
    if (windows == nullptr) {
      return absl::InvalidArgumentError(
          "a shared-state object made by another backend was passed to a "
          "windows child; make it with the context that starts the child");
    }
    if (windows->handle() == nullptr) {
      return absl::FailedPreconditionError(
          "handle is closed; a Connection passed to this child was closed in "
          "this process: start the child before closing this process's copy");
    }
    result.push_back(windows);
  }
  return result;
}

bool IsWindowsProcessAlive(int64_t pid) {
  if (pid == static_cast<int64_t>(GetCurrentProcessId())) return true;
  if (pid <= 0 || pid > static_cast<int64_t>(MAXDWORD)) return false;
  Handle process(OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(pid)));
  if (!process.valid()) {
    // ERROR_INVALID_PARAMETER: no such process; any other refusal (access
    // denied): cannot tell, so alive.
    return GetLastError() != ERROR_INVALID_PARAMETER;
  }
  return WaitForSingleObject(process.get(), 0) != WAIT_OBJECT_0;
}

}  // namespace mproc::windows
