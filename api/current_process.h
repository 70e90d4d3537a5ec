// -----------------------------------------------------------------------------
// File: api/current_process.h
// -----------------------------------------------------------------------------
//
// Who am I: CPython's current_process(), parent_process(), active_children().
// In a thread-backend child these describe that child (identity is per
// thread); threads the target starts itself see the main process.

#ifndef MPROC_API_CURRENT_PROCESS_H_
#define MPROC_API_CURRENT_PROCESS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mproc {

// A snapshot of one process's identity.
struct ProcessInfo {
  std::string name;  // "MainProcess", "Process-1", "Process-1:2", ...
  int64_t pid = 0;   // synthetic on the thread backend
  bool daemon = false;
  std::vector<int> identity;  // {} for the main process, {1, 2} for Process-1:2
};

// The calling process (or thread-backend child).
ProcessInfo CurrentProcess();

// The process that started the caller; std::nullopt in the main process.
// Only name and pid are known.
std::optional<ProcessInfo> ParentProcess();

// The caller's children that are still running. Reaps those that have ended
// (as CPython's active_children() does).
std::vector<ProcessInfo> ActiveChildren();

// Writes `line` and a newline to stdout in one write, so lines printed by
// concurrent processes never mix. Thread-safe.
void PrintLine(absl::string_view line);

}  // namespace mproc

#endif  // MPROC_API_CURRENT_PROCESS_H_
