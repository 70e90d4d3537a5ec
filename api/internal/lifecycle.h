// -----------------------------------------------------------------------------
// File: api/internal/lifecycle.h
// -----------------------------------------------------------------------------
//
// Internal: the lifecycle rules of docs/design.md §4 that are pure functions:
// name validation, default names, the error messages (CPython's phrase first,
// then what to do), and the CPython-style repr.

#ifndef MPROC_API_INTERNAL_LIFECYCLE_H_
#define MPROC_API_INTERNAL_LIFECYCLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mproc::internal {

inline constexpr size_t kMaxNameBytes = 1024;

// OK for any UTF-8 string of 1 to 1024 bytes without NUL; else
// `kInvalidArgument` saying which rule it broke.
[[nodiscard]] absl::Status ValidateName(absl::string_view name);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(absl::string_view text);

// "Process-1:2" for identity {1, 2} (another `prefix`: "Manager-1:2").
std::string DefaultName(const std::vector<int>& identity,
                        absl::string_view prefix = "Process");

// The lifecycle errors, as absl::Status.
[[nodiscard]] absl::Status StartedTwiceError();
[[nodiscard]] absl::Status NotStartedError(
    absl::string_view verb);  // "join", "terminate"...
[[nodiscard]] absl::Status NotAChildError(absl::string_view verb);
[[nodiscard]] absl::Status NotCreatorError();
[[nodiscard]] absl::Status AlreadyStartedError();
[[nodiscard]] absl::Status DaemonChildError();
[[nodiscard]] absl::Status CloseRunningError();
[[nodiscard]] absl::Status ClosedError();
[[nodiscard]] absl::Status MovedFromError();
[[nodiscard]] absl::Status NegativeTimeoutError(absl::string_view what);
[[nodiscard]] absl::Status NegativeGraceError();  // Process::Stop
[[nodiscard]] absl::Status EmptyTargetError();
[[nodiscard]] absl::Status ClosureNotAllowedError(
    absl::string_view context_name);

// What the repr says about a process's state.
enum class ReprState { kInitial, kStarted, kStopped, kClosed, kUnknown };

struct ReprFields {
  std::string name;
  std::optional<int64_t> pid;
  int64_t parent_pid = 0;
  ReprState state = ReprState::kInitial;
  std::optional<int> exitcode;
  // The platform's name of the signal a negative exitcode stands for
  // (Backend::SignalName), or empty.
  std::string signal_name;
  bool daemon = false;
};

// `<Process name='Process-1' pid=123 parent=100 stopped exitcode=-SIGTERM>`.
std::string FormatRepr(const ReprFields& fields);

// A Python-style repr of a string: single quotes unless it holds a single
// quote and no double quote; backslash escapes for quotes, backslashes and
// control characters.
std::string PythonQuote(absl::string_view text);

}  // namespace mproc::internal

#endif  // MPROC_API_INTERNAL_LIFECYCLE_H_
