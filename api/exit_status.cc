#include "api/exit_status.h"

#include <array>
#include <string>

#include "absl/strings/str_cat.h"

namespace mproc {
namespace {

// Signal names by number as Linux numbers them: the numbers every backend
// reports (POSIX exit statuses, and Windows' mapped termination codes).
constexpr std::array<const char*, 32> kSignalNames = {
    nullptr,   "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP",
    "SIGABRT", "SIGBUS",  "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV",
    "SIGUSR2", "SIGPIPE", "SIGALRM",   "SIGTERM", "SIGSTKFLT", "SIGCHLD",
    "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",   "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",
    "SIGPWR",  "SIGSYS"};

}  // namespace

ExitStatus ExitStatus::FromWindowsExitCode(uint32_t code) {
  if (code == kWindowsTerminateCode) return Signaled(kTerminateSignal);
  if (code == kWindowsKillCode) return Signaled(kKillSignal);
  // Windows keeps all 32 bits; an int keeps them too (NTSTATUS codes read
  // as negative numbers, as in CPython).
  return Exited(static_cast<int>(code));
}

std::string ExitCodeToString(int exitcode) {
  // Compare before negating: -INT_MIN overflows.
  if (exitcode < 0 && exitcode > -static_cast<int>(kSignalNames.size()) &&
      kSignalNames[-exitcode] != nullptr) {
    return absl::StrCat("-", kSignalNames[-exitcode]);
  }
  return absl::StrCat(exitcode);
}

}  // namespace mproc
