// -----------------------------------------------------------------------------
// File: backends/windows/win32.h
// -----------------------------------------------------------------------------
//
// Windows only: the Win32 edge shared by the backend's files. Errors as
// absl::Status, an owned HANDLE, and UTF-8 <-> UTF-16 (the api speaks UTF-8;
// every Win32 call here is the W form).

#ifndef MPROC_BACKENDS_WINDOWS_WIN32_H_
#define MPROC_BACKENDS_WINDOWS_WIN32_H_

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mproc::windows {

// `error` (a GetLastError() value) as a Status: the code it maps to
// (ERROR_FILE_NOT_FOUND / ERROR_PATH_NOT_FOUND -> kNotFound,
// ERROR_ACCESS_DENIED -> kPermissionDenied, ERROR_NOT_ENOUGH_MEMORY /
// ERROR_OUTOFMEMORY / ERROR_NO_SYSTEM_RESOURCES / ERROR_TOO_MANY_OPEN_FILES ->
// kResourceExhausted, ERROR_PIPE_BUSY / ERROR_BROKEN_PIPE / ERROR_NO_DATA /
// ERROR_PIPE_NOT_CONNECTED -> kUnavailable, ERROR_INVALID_HANDLE /
// ERROR_INVALID_PARAMETER -> kInvalidArgument, ERROR_OPERATION_ABORTED ->
// kCancelled, WAIT_TIMEOUT / ERROR_TIMEOUT / ERROR_SEM_TIMEOUT ->
// kDeadlineExceeded, anything else -> kUnknown); the message is
// "<what> failed: <the system's text> (Windows error <n>)", then
// "; <to_do>" when given.
[[nodiscard]] absl::Status Win32ErrorToStatus(DWORD error,
                                              absl::string_view what,
                                              absl::string_view to_do = "");
// Win32ErrorToStatus(GetLastError(), what, to_do).
[[nodiscard]] absl::Status LastErrorStatus(absl::string_view what,
                                           absl::string_view to_do = "");

// UTF-8 -> UTF-16. `kInvalidArgument` on invalid UTF-8.
[[nodiscard]] absl::StatusOr<std::wstring> Utf8ToWide(absl::string_view utf8);
// UTF-16 -> UTF-8 (unpaired surrogates become U+FFFD).
std::string WideToUtf8(std::wstring_view wide);

// Milliseconds from now until `deadline`, for Win32 waits: 0 when it has
// passed, INFINITE for absl::InfiniteFuture(), and never INFINITE by
// accident for a far but finite deadline (capped below it; callers loop).
DWORD MillisecondsUntil(absl::Time deadline);

// Handle
//
// Owns one HANDLE (nullptr and INVALID_HANDLE_VALUE both mean none) and
// closes it once. Move-only. Every handle the backend opens lives in one,
// and OpenHandleCount() counts them (the conformance suite's leak probe).
class Handle {
 public:
  Handle() = default;
  explicit Handle(HANDLE handle);
  ~Handle() { Reset(); }
  Handle(Handle&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  bool valid() const { return handle_ != nullptr; }
  HANDLE get() const { return handle_; }
  // Gives up ownership (the count drops; the caller closes it).
  HANDLE Release();
  // Closes the handle held, if any, and takes `handle`.
  void Reset(HANDLE handle = nullptr);

 private:
  HANDLE handle_ = nullptr;
};

// Handles the backend holds open now, in all Handle objects.
int64_t OpenHandleCount();

}  // namespace mproc::windows

#endif  // MPROC_BACKENDS_WINDOWS_WIN32_H_
