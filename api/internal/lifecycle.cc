#include "api/internal/lifecycle.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "api/exit_status.h"

namespace mproc::internal {

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    int extra;
    uint32_t code;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xe0) == 0xc0) {
      extra = 1;
      code = byte & 0x1f;
    } else if ((byte & 0xf0) == 0xe0) {
      extra = 2;
      code = byte & 0x0f;
    } else if ((byte & 0xf8) == 0xf0) {
      extra = 3;
      code = byte & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (int k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[extra] || code > 0x10ffff ||
        (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

absl::Status ValidateName(absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        "process name is empty; pass a non-empty name, or leave it unset for "
        "the default Process-N");
  }
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("process name is ", name.size(),
                     " bytes long; the limit is ", kMaxNameBytes, " bytes"));
  }
  if (name.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "process name contains a NUL byte; remove it");
  }
  if (!IsValidUtf8(name)) {
    return absl::InvalidArgumentError(
        "process name is not valid UTF-8; pass UTF-8 text");
  }
  return absl::OkStatus();
}

std::string DefaultName(const std::vector<int>& identity,
                        absl::string_view prefix) {
  return absl::StrCat(prefix, "-", absl::StrJoin(identity, ":"));
}

absl::Status StartedTwiceError() {
  return absl::FailedPreconditionError(
      "cannot start a process twice; create a new Process");
}
absl::Status NotStartedError(absl::string_view verb) {
  return absl::FailedPreconditionError(absl::StrCat(
      "can only ", verb, " a started process; call Start() first"));
}
absl::Status NotAChildError(absl::string_view verb) {
  return absl::FailedPreconditionError(absl::StrCat(
      "can only ", verb,
      " a child process; only the process that started it may do this"));
}
absl::Status NotCreatorError() {
  return absl::FailedPreconditionError(
      "can only start a process object created by current process; create "
      "the Process in the process that starts it");
}
absl::Status AlreadyStartedError() {
  return absl::FailedPreconditionError(
      "process has already started; set the daemon flag before Start()");
}
absl::Status DaemonChildError() {
  return absl::FailedPreconditionError(
      "daemonic processes are not allowed to have children; make this "
      "process non-daemonic to start children or Managers from it");
}
absl::Status CloseRunningError() {
  return absl::FailedPreconditionError(
      "Cannot close a process while it is still running. You should first "
      "call join() or terminate().");
}
absl::Status ClosedError() {
  return absl::FailedPreconditionError(
      "process object is closed; create a new Process");
}
absl::Status MovedFromError() {
  return absl::FailedPreconditionError(
      "use of a moved-from Process; use the Process it was moved to");
}
absl::Status NegativeTimeoutError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      what,
      " timeout is negative; pass a duration >= 0 (0 polls), or none to "
      "wait without limit"));
}
absl::Status NegativeGraceError() {
  return absl::InvalidArgumentError(
      "stop grace is negative; pass a duration >= 0 (0 kills at once after "
      "the terminate)");
}
absl::Status EmptyTargetError() {
  return absl::InvalidArgumentError(
      "process has no target; build one with mproc::Target(&function, "
      "args...)");
}
absl::Status ClosureNotAllowedError(absl::string_view context_name) {
  return absl::InvalidArgumentError(absl::StrCat(
      "context '", context_name,
      "' re-executes the program, so the target must be a registered "
      "function; register it with MPROC_REGISTER_TARGET(function) and build "
      "the call with mproc::Target(&function, args...)"));
}

std::string PythonQuote(absl::string_view text) {
  const bool has_single = text.find('\'') != absl::string_view::npos;
  const bool has_double = text.find('"') != absl::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    } else {
      out.push_back(c);
    }
  }
  out.push_back(quote);
  return out;
}

std::string FormatRepr(const ReprFields& fields) {
  std::string out = absl::StrCat("<Process name=", PythonQuote(fields.name));
  if (fields.pid.has_value()) absl::StrAppend(&out, " pid=", *fields.pid);
  absl::StrAppend(&out, " parent=", fields.parent_pid);
  switch (fields.state) {
    case ReprState::kInitial:
      absl::StrAppend(&out, " initial");
      break;
    case ReprState::kStarted:
      absl::StrAppend(&out, " started");
      break;
    case ReprState::kStopped:
      absl::StrAppend(&out, " stopped");
      break;
    case ReprState::kClosed:
      absl::StrAppend(&out, " closed");
      break;
    case ReprState::kUnknown:
      absl::StrAppend(&out, " unknown");
      break;
  }
  if (fields.state == ReprState::kStopped && fields.exitcode.has_value()) {
    absl::StrAppend(&out, " exitcode=",
                    ExitCodeToString(*fields.exitcode, fields.signal_name));
  }
  if (fields.daemon) absl::StrAppend(&out, " daemon");
  absl::StrAppend(&out, ">");
  return out;
}

}  // namespace mproc::internal
