// Windows only: errors, handles and UTF-16 at the Win32 edge (win32.h).
#include "backends/windows/win32.h"

#include <atomic>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace mproc::windows {
namespace {

std::atomic<int64_t> open_handles{0};

absl::StatusCode CodeFor(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return absl::StatusCode::kNotFound;
    case ERROR_ACCESS_DENIED:
      return absl::StatusCode::kPermissionDenied;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_NO_SYSTEM_RESOURCES:
    case ERROR_TOO_MANY_OPEN_FILES:
    case ERROR_COMMITMENT_LIMIT:
      return absl::StatusCode::kResourceExhausted;
    case ERROR_PIPE_BUSY:
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
    case ERROR_PIPE_NOT_CONNECTED:
      return absl::StatusCode::kUnavailable;
    case ERROR_INVALID_HANDLE:
    case ERROR_INVALID_PARAMETER:
      return absl::StatusCode::kInvalidArgument;
    case ERROR_OPERATION_ABORTED:
      return absl::StatusCode::kCancelled;
    case WAIT_TIMEOUT:
    case ERROR_TIMEOUT:
    case ERROR_SEM_TIMEOUT:
      return absl::StatusCode::kDeadlineExceeded;
    default:
      return absl::StatusCode::kUnknown;
  }
}

std::string SystemMessage(DWORD error) {
  wchar_t* text = nullptr;
  const DWORD n = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
          FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, error, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  if (n == 0 || text == nullptr) return "unknown error";
  std::string message = WideToUtf8(std::wstring_view(text, n));
  LocalFree(text);
  absl::StripTrailingAsciiWhitespace(&message);
  while (!message.empty() && message.back() == '.') message.pop_back();
  return message;
}

}  // namespace

absl::Status Win32ErrorToStatus(DWORD error, absl::string_view what,
                                absl::string_view to_do) {
  std::string message = absl::StrCat(what, " failed: ", SystemMessage(error),
                                     " (Windows error ", error, ")");
  if (!to_do.empty()) absl::StrAppend(&message, "; ", to_do);
  return absl::Status(CodeFor(error), message);
}

absl::Status LastErrorStatus(absl::string_view what, absl::string_view to_do) {
  return Win32ErrorToStatus(GetLastError(), what, to_do);
}

absl::StatusOr<std::wstring> Utf8ToWide(absl::string_view utf8) {
  if (utf8.empty()) return std::wstring();
  const int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(),
                                    static_cast<int>(utf8.size()), nullptr, 0);
  if (n <= 0) {
    return absl::InvalidArgumentError(
        "the text is not valid UTF-8; mproc's api takes UTF-8 strings");
  }
  std::wstring wide(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(),
                      static_cast<int>(utf8.size()), wide.data(), n);
  return wide;
}

std::string WideToUtf8(std::wstring_view wide) {
  if (wide.empty()) return std::string();
  const int n = WideCharToMultiByte(CP_UTF8, 0, wide.data(),
                                    static_cast<int>(wide.size()), nullptr, 0,
                                    nullptr, nullptr);
  if (n <= 0) return std::string();
  std::string utf8(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()),
                      utf8.data(), n, nullptr, nullptr);
  return utf8;
}

DWORD MillisecondsUntil(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return INFINITE;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  // Rounded up, so a wait never ends before the deadline.
  const int64_t ms = absl::ToInt64Milliseconds(left + absl::Microseconds(999));
  constexpr int64_t kMax = 24 * 3600 * 1000;  // one day; the caller loops
  return static_cast<DWORD>(ms > kMax ? kMax : ms);
}

Handle::Handle(HANDLE handle) { Reset(handle); }

HANDLE Handle::Release() {
  HANDLE handle = handle_;
  if (handle != nullptr) open_handles.fetch_sub(1, std::memory_order_relaxed);
  handle_ = nullptr;
  return handle;
}

void Handle::Reset(HANDLE handle) {
  if (handle == INVALID_HANDLE_VALUE) handle = nullptr;
  if (handle_ != nullptr) {
    CloseHandle(handle_);
    open_handles.fetch_sub(1, std::memory_order_relaxed);
  }
  handle_ = handle;
  if (handle_ != nullptr) open_handles.fetch_add(1, std::memory_order_relaxed);
}

int64_t OpenHandleCount() {
  return open_handles.load(std::memory_order_relaxed);
}

}  // namespace mproc::windows
