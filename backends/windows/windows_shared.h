// -----------------------------------------------------------------------------
// File: backends/windows/windows_shared.h
// -----------------------------------------------------------------------------
//
// Windows only: the shared-state facilities of api/shared_object.h. Shared
// memory is an unnamed pagefile-backed section (CreateFileMappingW of
// INVALID_HANDLE_VALUE) mapped with MapViewOfFile; a semaphore is an unnamed
// CreateSemaphoreW. Neither has a name, so nothing outlives the last handle.
// A child gets them by inheritance: LaunchChild duplicates each handle of the
// handover table as an inheritable copy for that one CreateProcessW, lists it
// in PROC_THREAD_ATTRIBUTE_HANDLE_LIST, and sends (kind, size, handle value)
// in the launch message; the child adopts the handle at the same value and
// maps the section again.

#ifndef MPROC_BACKENDS_WINDOWS_WINDOWS_SHARED_H_
#define MPROC_BACKENDS_WINDOWS_WINDOWS_SHARED_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "api/shared_object.h"
#include "backends/windows/win32.h"

namespace mproc::windows {

// The windows side of a handover object: what to pass to a child.
class WindowsShared {
 public:
  // kChannel: a channel end (windows_channel.h), a pipe handle.
  enum class Kind : uint8_t { kMemory = 0, kSemaphore = 1, kChannel = 2 };
  static constexpr Kind kLastKind = Kind::kChannel;

  virtual ~WindowsShared() = default;
  virtual Kind kind() const = 0;
  // The mapped size (0 for a semaphore or a channel end), which the child
  // maps again.
  virtual size_t size() const = 0;
  // The section, semaphore or pipe handle to duplicate for the child;
  // nullptr for a channel end closed in this process.
  virtual HANDLE handle() const = 0;
};

// A new SharedMemory of `size` bytes (api/backend.h CreateSharedMemory).
[[nodiscard]] absl::StatusOr<std::shared_ptr<SharedMemory>>
CreateWindowsSharedMemory(size_t size);

// A new semaphore with count `initial`. `kOutOfRange` above LONG_MAX.
[[nodiscard]] absl::StatusOr<std::shared_ptr<OsSemaphore>>
CreateWindowsSemaphore(uint32_t initial);

// In a child: rebuilds the object of `kind` and `size` from the inherited
// `handle` (which it owns). `kInvalidArgument` when the handle is not a
// section of at least `size` bytes or not a semaphore.
[[nodiscard]] absl::StatusOr<std::shared_ptr<SharedObject>> AdoptWindowsShared(
    WindowsShared::Kind kind, Handle handle, size_t size);

// The windows views of `objects` (LaunchRequest::handovers), same order.
// `kInvalidArgument` for an object another backend made;
// `kFailedPrecondition` for a channel end closed in this process.
[[nodiscard]] absl::StatusOr<std::vector<const WindowsShared*>>
WindowsHandovers(const std::vector<std::shared_ptr<SharedObject>>& objects);

// api/backend.h IsProcessAlive: false once process `pid` has ended (its
// handle is signalled) or no such process exists; true when it runs or the
// system will not open it.
bool IsWindowsProcessAlive(int64_t pid);

}  // namespace mproc::windows

#endif  // MPROC_BACKENDS_WINDOWS_WINDOWS_SHARED_H_
