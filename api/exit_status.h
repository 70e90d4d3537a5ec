// -----------------------------------------------------------------------------
// File: api/exit_status.h
// -----------------------------------------------------------------------------
//
// How a child ended, and the one mapping from that to CPython's `exitcode`:
// a normal exit gives its code (0-255 is portable), death by signal N gives -N.
// Windows has no signals: mproc terminates with `kWindowsTerminateCode` /
// `kWindowsKillCode`, which map back to -15 / -9, so every backend reports the
// same numbers.

#ifndef MPROC_API_EXIT_STATUS_H_
#define MPROC_API_EXIT_STATUS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace mproc {

// Signal numbers used by `Terminate` and `Kill` on every backend.
inline constexpr int kTerminateSignal = 15;  // SIGTERM
inline constexpr int kKillSignal = 9;        // SIGKILL

// Exit codes the Windows backend passes to TerminateProcess (CPython uses
// 0x10000).
inline constexpr uint32_t kWindowsTerminateCode = 0x10000 + kTerminateSignal;
inline constexpr uint32_t kWindowsKillCode = 0x10000 + kKillSignal;

// ExitStatus
//
// The end of one child: either it exited with a code, or a signal ended it.
// A value type; compare with `==`.
class ExitStatus {
 public:
  // A child that returned or called exit with `code`.
  static constexpr ExitStatus Exited(int code) { return ExitStatus(code, 0); }
  // A child ended by signal `signal` (> 0).
  static constexpr ExitStatus Signaled(int signal) {
    return ExitStatus(0, signal);
  }
  // Maps a Windows process exit code: `kWindowsTerminateCode` and
  // `kWindowsKillCode` become Signaled(15) / Signaled(9); any other code
  // (259 included) is Exited with that code.
  static ExitStatus FromWindowsExitCode(uint32_t code);

  // True when a signal (or its Windows equivalent) ended the child.
  constexpr bool signaled() const { return signal_ != 0; }
  constexpr int signal() const { return signal_; }
  constexpr int code() const { return code_; }

  // CPython's `exitcode`: the exit code, or -signal.
  constexpr int exitcode() const { return signaled() ? -signal_ : code_; }

  friend constexpr bool operator==(const ExitStatus&,
                                   const ExitStatus&) = default;

 private:
  constexpr ExitStatus(int code, int signal) : code_(code), signal_(signal) {}
  int code_;
  int signal_;
};

// Formats an exitcode as CPython's repr does: a negative exitcode -n becomes
// "-" and `signal_name`, the name the platform gives signal n ("SIGTERM";
// Backend::SignalName says it); anything else, and a signal without a name,
// is the number. Without a name, the two signals every backend reports
// (kTerminateSignal, kKillSignal) are still named.
std::string ExitCodeToString(int exitcode, absl::string_view signal_name = {});

}  // namespace mproc

#endif  // MPROC_API_EXIT_STATUS_H_
