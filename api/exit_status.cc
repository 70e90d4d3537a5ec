#include "api/exit_status.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace mproc {
ExitStatus ExitStatus::FromWindowsExitCode(uint32_t code) {
  if (code == kWindowsTerminateCode) return Signaled(kTerminateSignal);
  if (code == kWindowsKillCode) return Signaled(kKillSignal);
  // Windows keeps all 32 bits; an int keeps them too (NTSTATUS codes read
  // as negative numbers, as in CPython).
  return Exited(static_cast<int>(code));
}

std::string ExitCodeToString(int exitcode, absl::string_view signal_name) {
  if (exitcode < 0 && !signal_name.empty()) {
    return absl::StrCat("-", signal_name);
  }
  if (exitcode == -kTerminateSignal) return "-SIGTERM";
  if (exitcode == -kKillSignal) return "-SIGKILL";
  return absl::StrCat(exitcode);
}

}  // namespace mproc
